// The types of /assets/vendor/uplot.js, which src/console/static.ts serves
// from the uplot npm package (docs/console.md, "Charts"); only the browser
// code's type-check reads this file.
import uPlot from 'uplot';
export default uPlot;
