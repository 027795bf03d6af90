import * as $protobuf from "protobufjs";
import Long = require("long");

/** Namespace lars. */
export namespace lars {

    /**
     * Properties of a HostInfo.
     * @deprecated Use lars.HostInfo.$Properties instead.
     */
    interface IHostInfo extends lars.HostInfo.$Properties {
    }

    /** Represents a HostInfo. */
    class HostInfo {

        /**
         * Constructs a new HostInfo.
         * @param [properties] Properties to set
         */
        constructor(properties?: lars.HostInfo.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** HostInfo ip. */
        ip: number;

        /** HostInfo port. */
        port: number;

        /** HostInfo weight. */
        weight?: (number|null);

        /** HostInfo load. */
        load?: (number|null);

        /**
         * Creates a new HostInfo instance using the specified properties.
         * @param [properties] Properties to set
         * @returns HostInfo instance
         */
        static create(properties: lars.HostInfo.$Shape): lars.HostInfo & lars.HostInfo.$Shape;
        static create(properties?: lars.HostInfo.$Properties): lars.HostInfo;

        /**
         * Encodes the specified HostInfo message. Does not implicitly {@link lars.HostInfo.verify|verify} messages.
         * @param message HostInfo message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: lars.HostInfo.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a HostInfo message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {lars.HostInfo & lars.HostInfo.$Shape} HostInfo
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): lars.HostInfo & lars.HostInfo.$Shape;

        /**
         * Gets the type url for HostInfo
         * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns The type url
         */
        static getTypeUrl(prefix?: string): string;
    }

    namespace HostInfo {

        /** Properties of a HostInfo. */
        interface $Properties {

            /** HostInfo ip */
            ip?: (number|null);

            /** HostInfo port */
            port?: (number|null);

            /** HostInfo weight */
            weight?: (number|null);

            /** HostInfo load */
            load?: (number|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a HostInfo. */
        type $Shape = lars.HostInfo.$Properties;
    }

    /**
     * Properties of a GetRouteRequest.
     * @deprecated Use lars.GetRouteRequest.$Properties instead.
     */
    interface IGetRouteRequest extends lars.GetRouteRequest.$Properties {
    }

    /** Represents a GetRouteRequest. */
    class GetRouteRequest {

        /**
         * Constructs a new GetRouteRequest.
         * @param [properties] Properties to set
         */
        constructor(properties?: lars.GetRouteRequest.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** GetRouteRequest modid. */
        modid: number;

        /** GetRouteRequest cmdid. */
        cmdid: number;

        /**
         * Creates a new GetRouteRequest instance using the specified properties.
         * @param [properties] Properties to set
         * @returns GetRouteRequest instance
         */
        static create(properties: lars.GetRouteRequest.$Shape): lars.GetRouteRequest & lars.GetRouteRequest.$Shape;
        static create(properties?: lars.GetRouteRequest.$Properties): lars.GetRouteRequest;

        /**
         * Encodes the specified GetRouteRequest message. Does not implicitly {@link lars.GetRouteRequest.verify|verify} messages.
         * @param message GetRouteRequest message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: lars.GetRouteRequest.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a GetRouteRequest message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {lars.GetRouteRequest & lars.GetRouteRequest.$Shape} GetRouteRequest
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): lars.GetRouteRequest & lars.GetRouteRequest.$Shape;

        /**
         * Gets the type url for GetRouteRequest
         * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns The type url
         */
        static getTypeUrl(prefix?: string): string;
    }

    namespace GetRouteRequest {

        /** Properties of a GetRouteRequest. */
        interface $Properties {

            /** GetRouteRequest modid */
            modid?: (number|null);

            /** GetRouteRequest cmdid */
            cmdid?: (number|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a GetRouteRequest. */
        type $Shape = lars.GetRouteRequest.$Properties;
    }

    /**
     * Properties of a GetRouteResponse.
     * @deprecated Use lars.GetRouteResponse.$Properties instead.
     */
    interface IGetRouteResponse extends lars.GetRouteResponse.$Properties {
    }

    /** Represents a GetRouteResponse. */
    class GetRouteResponse {

        /**
         * Constructs a new GetRouteResponse.
         * @param [properties] Properties to set
         */
        constructor(properties?: lars.GetRouteResponse.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** GetRouteResponse modid. */
        modid: number;

        /** GetRouteResponse cmdid. */
        cmdid: number;

        /** GetRouteResponse host. */
        host: lars.HostInfo.$Properties[];

        /** GetRouteResponse strategy. */
        strategy?: (string|null);

        /**
         * Creates a new GetRouteResponse instance using the specified properties.
         * @param [properties] Properties to set
         * @returns GetRouteResponse instance
         */
        static create(properties: lars.GetRouteResponse.$Shape): lars.GetRouteResponse & lars.GetRouteResponse.$Shape;
        static create(properties?: lars.GetRouteResponse.$Properties): lars.GetRouteResponse;

        /**
         * Encodes the specified GetRouteResponse message. Does not implicitly {@link lars.GetRouteResponse.verify|verify} messages.
         * @param message GetRouteResponse message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: lars.GetRouteResponse.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a GetRouteResponse message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {lars.GetRouteResponse & lars.GetRouteResponse.$Shape} GetRouteResponse
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): lars.GetRouteResponse & lars.GetRouteResponse.$Shape;

        /**
         * Gets the type url for GetRouteResponse
         * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns The type url
         */
        static getTypeUrl(prefix?: string): string;
    }

    namespace GetRouteResponse {

        /** Properties of a GetRouteResponse. */
        interface $Properties {

            /** GetRouteResponse modid */
            modid?: (number|null);

            /** GetRouteResponse cmdid */
            cmdid?: (number|null);

            /** GetRouteResponse host */
            host?: (lars.HostInfo.$Properties[]|null);

            /** GetRouteResponse strategy */
            strategy?: (string|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a GetRouteResponse. */
        type $Shape = lars.GetRouteResponse.$Properties;
    }

    /**
     * Properties of a HostCallResult.
     * @deprecated Use lars.HostCallResult.$Properties instead.
     */
    interface IHostCallResult extends lars.HostCallResult.$Properties {
    }

    /** Represents a HostCallResult. */
    class HostCallResult {

        /**
         * Constructs a new HostCallResult.
         * @param [properties] Properties to set
         */
        constructor(properties?: lars.HostCallResult.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** HostCallResult ip. */
        ip: number;

        /** HostCallResult port. */
        port: number;

        /** HostCallResult succ. */
        succ: number;

        /** HostCallResult err. */
        err: number;

        /** HostCallResult overload. */
        overload: boolean;

        /** HostCallResult timed. */
        timed: number;

        /** HostCallResult durationUs. */
        durationUs: number;

        /** HostCallResult maxDurationUs. */
        maxDurationUs: number;

        /**
         * Creates a new HostCallResult instance using the specified properties.
         * @param [properties] Properties to set
         * @returns HostCallResult instance
         */
        static create(properties: lars.HostCallResult.$Shape): lars.HostCallResult & lars.HostCallResult.$Shape;
        static create(properties?: lars.HostCallResult.$Properties): lars.HostCallResult;

        /**
         * Encodes the specified HostCallResult message. Does not implicitly {@link lars.HostCallResult.verify|verify} messages.
         * @param message HostCallResult message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: lars.HostCallResult.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a HostCallResult message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {lars.HostCallResult & lars.HostCallResult.$Shape} HostCallResult
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): lars.HostCallResult & lars.HostCallResult.$Shape;

        /**
         * Gets the type url for HostCallResult
         * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns The type url
         */
        static getTypeUrl(prefix?: string): string;
    }

    namespace HostCallResult {

        /** Properties of a HostCallResult. */
        interface $Properties {

            /** HostCallResult ip */
            ip?: (number|null);

            /** HostCallResult port */
            port?: (number|null);

            /** HostCallResult succ */
            succ?: (number|null);

            /** HostCallResult err */
            err?: (number|null);

            /** HostCallResult overload */
            overload?: (boolean|null);

            /** HostCallResult timed */
            timed?: (number|null);

            /** HostCallResult durationUs */
            durationUs?: (number|null);

            /** HostCallResult maxDurationUs */
            maxDurationUs?: (number|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a HostCallResult. */
        type $Shape = lars.HostCallResult.$Properties;
    }

    /**
     * Properties of a ReportStatusRequest.
     * @deprecated Use lars.ReportStatusRequest.$Properties instead.
     */
    interface IReportStatusRequest extends lars.ReportStatusRequest.$Properties {
    }

    /** Represents a ReportStatusRequest. */
    class ReportStatusRequest {

        /**
         * Constructs a new ReportStatusRequest.
         * @param [properties] Properties to set
         */
        constructor(properties?: lars.ReportStatusRequest.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** ReportStatusRequest modid. */
        modid: number;

        /** ReportStatusRequest cmdid. */
        cmdid: number;

        /** ReportStatusRequest caller. */
        caller: number;

        /** ReportStatusRequest results. */
        results: lars.HostCallResult.$Properties[];

        /** ReportStatusRequest ts. */
        ts: number;

        /** ReportStatusRequest seq. */
        seq: number;

        /**
         * Creates a new ReportStatusRequest instance using the specified properties.
         * @param [properties] Properties to set
         * @returns ReportStatusRequest instance
         */
        static create(properties: lars.ReportStatusRequest.$Shape): lars.ReportStatusRequest & lars.ReportStatusRequest.$Shape;
        static create(properties?: lars.ReportStatusRequest.$Properties): lars.ReportStatusRequest;

        /**
         * Encodes the specified ReportStatusRequest message. Does not implicitly {@link lars.ReportStatusRequest.verify|verify} messages.
         * @param message ReportStatusRequest message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: lars.ReportStatusRequest.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a ReportStatusRequest message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {lars.ReportStatusRequest & lars.ReportStatusRequest.$Shape} ReportStatusRequest
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): lars.ReportStatusRequest & lars.ReportStatusRequest.$Shape;

        /**
         * Gets the type url for ReportStatusRequest
         * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns The type url
         */
        static getTypeUrl(prefix?: string): string;
    }

    namespace ReportStatusRequest {

        /** Properties of a ReportStatusRequest. */
        interface $Properties {

            /** ReportStatusRequest modid */
            modid?: (number|null);

            /** ReportStatusRequest cmdid */
            cmdid?: (number|null);

            /** ReportStatusRequest caller */
            caller?: (number|null);

            /** ReportStatusRequest results */
            results?: (lars.HostCallResult.$Properties[]|null);

            /** ReportStatusRequest ts */
            ts?: (number|null);

            /** ReportStatusRequest seq */
            seq?: (number|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a ReportStatusRequest. */
        type $Shape = lars.ReportStatusRequest.$Properties;
    }

    /**
     * Properties of a GetHostRequest.
     * @deprecated Use lars.GetHostRequest.$Properties instead.
     */
    interface IGetHostRequest extends lars.GetHostRequest.$Properties {
    }

    /** Represents a GetHostRequest. */
    class GetHostRequest {

        /**
         * Constructs a new GetHostRequest.
         * @param [properties] Properties to set
         */
        constructor(properties?: lars.GetHostRequest.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** GetHostRequest seq. */
        seq: number;

        /** GetHostRequest modid. */
        modid: number;

        /** GetHostRequest cmdid. */
        cmdid: number;

        /** GetHostRequest key. */
        key: string;

        /**
         * Creates a new GetHostRequest instance using the specified properties.
         * @param [properties] Properties to set
         * @returns GetHostRequest instance
         */
        static create(properties: lars.GetHostRequest.$Shape): lars.GetHostRequest & lars.GetHostRequest.$Shape;
        static create(properties?: lars.GetHostRequest.$Properties): lars.GetHostRequest;

        /**
         * Encodes the specified GetHostRequest message. Does not implicitly {@link lars.GetHostRequest.verify|verify} messages.
         * @param message GetHostRequest message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: lars.GetHostRequest.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a GetHostRequest message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {lars.GetHostRequest & lars.GetHostRequest.$Shape} GetHostRequest
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): lars.GetHostRequest & lars.GetHostRequest.$Shape;

        /**
         * Gets the type url for GetHostRequest
         * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns The type url
         */
        static getTypeUrl(prefix?: string): string;
    }

    namespace GetHostRequest {

        /** Properties of a GetHostRequest. */
        interface $Properties {

            /** GetHostRequest seq */
            seq?: (number|null);

            /** GetHostRequest modid */
            modid?: (number|null);

            /** GetHostRequest cmdid */
            cmdid?: (number|null);

            /** GetHostRequest key */
            key?: (string|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a GetHostRequest. */
        type $Shape = lars.GetHostRequest.$Properties;
    }

    /**
     * Properties of a GetHostResponse.
     * @deprecated Use lars.GetHostResponse.$Properties instead.
     */
    interface IGetHostResponse extends lars.GetHostResponse.$Properties {
    }

    /** Represents a GetHostResponse. */
    class GetHostResponse {

        /**
         * Constructs a new GetHostResponse.
         * @param [properties] Properties to set
         */
        constructor(properties?: lars.GetHostResponse.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** GetHostResponse seq. */
        seq: number;

        /** GetHostResponse modid. */
        modid: number;

        /** GetHostResponse cmdid. */
        cmdid: number;

        /** GetHostResponse retcode. */
        retcode: number;

        /** GetHostResponse host. */
        host?: (lars.HostInfo.$Properties|null);

        /**
         * Creates a new GetHostResponse instance using the specified properties.
         * @param [properties] Properties to set
         * @returns GetHostResponse instance
         */
        static create(properties: lars.GetHostResponse.$Shape): lars.GetHostResponse & lars.GetHostResponse.$Shape;
        static create(properties?: lars.GetHostResponse.$Properties): lars.GetHostResponse;

        /**
         * Encodes the specified GetHostResponse message. Does not implicitly {@link lars.GetHostResponse.verify|verify} messages.
         * @param message GetHostResponse message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: lars.GetHostResponse.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a GetHostResponse message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {lars.GetHostResponse & lars.GetHostResponse.$Shape} GetHostResponse
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): lars.GetHostResponse & lars.GetHostResponse.$Shape;

        /**
         * Gets the type url for GetHostResponse
         * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns The type url
         */
        static getTypeUrl(prefix?: string): string;
    }

    namespace GetHostResponse {

        /** Properties of a GetHostResponse. */
        interface $Properties {

            /** GetHostResponse seq */
            seq?: (number|null);

            /** GetHostResponse modid */
            modid?: (number|null);

            /** GetHostResponse cmdid */
            cmdid?: (number|null);

            /** GetHostResponse retcode */
            retcode?: (number|null);

            /** GetHostResponse host */
            host?: (lars.HostInfo.$Properties|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a GetHostResponse. */
        type $Shape = lars.GetHostResponse.$Properties;
    }

    /**
     * Properties of a ReportRequest.
     * @deprecated Use lars.ReportRequest.$Properties instead.
     */
    interface IReportRequest extends lars.ReportRequest.$Properties {
    }

    /** Represents a ReportRequest. */
    class ReportRequest {

        /**
         * Constructs a new ReportRequest.
         * @param [properties] Properties to set
         */
        constructor(properties?: lars.ReportRequest.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** ReportRequest modid. */
        modid: number;

        /** ReportRequest cmdid. */
        cmdid: number;

        /** ReportRequest host. */
        host?: (lars.HostInfo.$Properties|null);

        /** ReportRequest retcode. */
        retcode: number;

        /** ReportRequest durationUs. */
        durationUs?: (number|null);

        /**
         * Creates a new ReportRequest instance using the specified properties.
         * @param [properties] Properties to set
         * @returns ReportRequest instance
         */
        static create(properties: lars.ReportRequest.$Shape): lars.ReportRequest & lars.ReportRequest.$Shape;
        static create(properties?: lars.ReportRequest.$Properties): lars.ReportRequest;

        /**
         * Encodes the specified ReportRequest message. Does not implicitly {@link lars.ReportRequest.verify|verify} messages.
         * @param message ReportRequest message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: lars.ReportRequest.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a ReportRequest message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {lars.ReportRequest & lars.ReportRequest.$Shape} ReportRequest
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): lars.ReportRequest & lars.ReportRequest.$Shape;

        /**
         * Gets the type url for ReportRequest
         * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns The type url
         */
        static getTypeUrl(prefix?: string): string;
    }

    namespace ReportRequest {

        /** Properties of a ReportRequest. */
        interface $Properties {

            /** ReportRequest modid */
            modid?: (number|null);

            /** ReportRequest cmdid */
            cmdid?: (number|null);

            /** ReportRequest host */
            host?: (lars.HostInfo.$Properties|null);

            /** ReportRequest retcode */
            retcode?: (number|null);

            /** ReportRequest durationUs */
            durationUs?: (number|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a ReportRequest. */
        type $Shape = lars.ReportRequest.$Properties;
    }

    /**
     * Properties of a RegisterRequest.
     * @deprecated Use lars.RegisterRequest.$Properties instead.
     */
    interface IRegisterRequest extends lars.RegisterRequest.$Properties {
    }

    /** Represents a RegisterRequest. */
    class RegisterRequest {

        /**
         * Constructs a new RegisterRequest.
         * @param [properties] Properties to set
         */
        constructor(properties?: lars.RegisterRequest.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** RegisterRequest seq. */
        seq: number;

        /** RegisterRequest modid. */
        modid: number;

        /** RegisterRequest cmdid. */
        cmdid: number;

        /** RegisterRequest ip. */
        ip: number;

        /** RegisterRequest port. */
        port: number;

        /** RegisterRequest weight. */
        weight?: (number|null);

        /** RegisterRequest ttlMs. */
        ttlMs: number;

        /** RegisterRequest metadata. */
        metadata: { [k: string]: string };

        /**
         * Creates a new RegisterRequest instance using the specified properties.
         * @param [properties] Properties to set
         * @returns RegisterRequest instance
         */
        static create(properties: lars.RegisterRequest.$Shape): lars.RegisterRequest & lars.RegisterRequest.$Shape;
        static create(properties?: lars.RegisterRequest.$Properties): lars.RegisterRequest;

        /**
         * Encodes the specified RegisterRequest message. Does not implicitly {@link lars.RegisterRequest.verify|verify} messages.
         * @param message RegisterRequest message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: lars.RegisterRequest.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a RegisterRequest message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {lars.RegisterRequest & lars.RegisterRequest.$Shape} RegisterRequest
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): lars.RegisterRequest & lars.RegisterRequest.$Shape;

        /**
         * Gets the type url for RegisterRequest
         * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns The type url
         */
        static getTypeUrl(prefix?: string): string;
    }

    namespace RegisterRequest {

        /** Properties of a RegisterRequest. */
        interface $Properties {

            /** RegisterRequest seq */
            seq?: (number|null);

            /** RegisterRequest modid */
            modid?: (number|null);

            /** RegisterRequest cmdid */
            cmdid?: (number|null);

            /** RegisterRequest ip */
            ip?: (number|null);

            /** RegisterRequest port */
            port?: (number|null);

            /** RegisterRequest weight */
            weight?: (number|null);

            /** RegisterRequest ttlMs */
            ttlMs?: (number|null);

            /** RegisterRequest metadata */
            metadata?: ({ [k: string]: string }|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a RegisterRequest. */
        type $Shape = lars.RegisterRequest.$Properties;
    }

    /**
     * Properties of an InstanceLoad.
     * @deprecated Use lars.InstanceLoad.$Properties instead.
     */
    interface IInstanceLoad extends lars.InstanceLoad.$Properties {
    }

    /** Represents an InstanceLoad. */
    class InstanceLoad {

        /**
         * Constructs a new InstanceLoad.
         * @param [properties] Properties to set
         */
        constructor(properties?: lars.InstanceLoad.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** InstanceLoad inFlight. */
        inFlight: number;

        /** InstanceLoad connections. */
        connections: number;

        /** InstanceLoad cpuPermille. */
        cpuPermille: number;

        /** InstanceLoad score. */
        score: number;

        /**
         * Creates a new InstanceLoad instance using the specified properties.
         * @param [properties] Properties to set
         * @returns InstanceLoad instance
         */
        static create(properties: lars.InstanceLoad.$Shape): lars.InstanceLoad & lars.InstanceLoad.$Shape;
        static create(properties?: lars.InstanceLoad.$Properties): lars.InstanceLoad;

        /**
         * Encodes the specified InstanceLoad message. Does not implicitly {@link lars.InstanceLoad.verify|verify} messages.
         * @param message InstanceLoad message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: lars.InstanceLoad.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes an InstanceLoad message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {lars.InstanceLoad & lars.InstanceLoad.$Shape} InstanceLoad
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): lars.InstanceLoad & lars.InstanceLoad.$Shape;

        /**
         * Gets the type url for InstanceLoad
         * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns The type url
         */
        static getTypeUrl(prefix?: string): string;
    }

    namespace InstanceLoad {

        /** Properties of an InstanceLoad. */
        interface $Properties {

            /** InstanceLoad inFlight */
            inFlight?: (number|null);

            /** InstanceLoad connections */
            connections?: (number|null);

            /** InstanceLoad cpuPermille */
            cpuPermille?: (number|null);

            /** InstanceLoad score */
            score?: (number|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of an InstanceLoad. */
        type $Shape = lars.InstanceLoad.$Properties;
    }

    /**
     * Properties of a RenewRequest.
     * @deprecated Use lars.RenewRequest.$Properties instead.
     */
    interface IRenewRequest extends lars.RenewRequest.$Properties {
    }

    /** Represents a RenewRequest. */
    class RenewRequest {

        /**
         * Constructs a new RenewRequest.
         * @param [properties] Properties to set
         */
        constructor(properties?: lars.RenewRequest.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** RenewRequest seq. */
        seq: number;

        /** RenewRequest lease. */
        lease: number;

        /** RenewRequest modid. */
        modid: number;

        /** RenewRequest cmdid. */
        cmdid: number;

        /** RenewRequest ip. */
        ip: number;

        /** RenewRequest port. */
        port: number;

        /** RenewRequest load. */
        load?: (lars.InstanceLoad.$Properties|null);

        /**
         * Creates a new RenewRequest instance using the specified properties.
         * @param [properties] Properties to set
         * @returns RenewRequest instance
         */
        static create(properties: lars.RenewRequest.$Shape): lars.RenewRequest & lars.RenewRequest.$Shape;
        static create(properties?: lars.RenewRequest.$Properties): lars.RenewRequest;

        /**
         * Encodes the specified RenewRequest message. Does not implicitly {@link lars.RenewRequest.verify|verify} messages.
         * @param message RenewRequest message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: lars.RenewRequest.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a RenewRequest message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {lars.RenewRequest & lars.RenewRequest.$Shape} RenewRequest
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): lars.RenewRequest & lars.RenewRequest.$Shape;

        /**
         * Gets the type url for RenewRequest
         * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns The type url
         */
        static getTypeUrl(prefix?: string): string;
    }

    namespace RenewRequest {

        /** Properties of a RenewRequest. */
        interface $Properties {

            /** RenewRequest seq */
            seq?: (number|null);

            /** RenewRequest lease */
            lease?: (number|null);

            /** RenewRequest modid */
            modid?: (number|null);

            /** RenewRequest cmdid */
            cmdid?: (number|null);

            /** RenewRequest ip */
            ip?: (number|null);

            /** RenewRequest port */
            port?: (number|null);

            /** RenewRequest load */
            load?: (lars.InstanceLoad.$Properties|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a RenewRequest. */
        type $Shape = lars.RenewRequest.$Properties;
    }

    /**
     * Properties of a RegistryReply.
     * @deprecated Use lars.RegistryReply.$Properties instead.
     */
    interface IRegistryReply extends lars.RegistryReply.$Properties {
    }

    /** Represents a RegistryReply. */
    class RegistryReply {

        /**
         * Constructs a new RegistryReply.
         * @param [properties] Properties to set
         */
        constructor(properties?: lars.RegistryReply.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** RegistryReply seq. */
        seq: number;

        /** RegistryReply status. */
        status: number;

        /** RegistryReply reason. */
        reason: string;

        /** RegistryReply lease. */
        lease: number;

        /** RegistryReply ttlMs. */
        ttlMs: number;

        /** RegistryReply ip. */
        ip: number;

        /**
         * Creates a new RegistryReply instance using the specified properties.
         * @param [properties] Properties to set
         * @returns RegistryReply instance
         */
        static create(properties: lars.RegistryReply.$Shape): lars.RegistryReply & lars.RegistryReply.$Shape;
        static create(properties?: lars.RegistryReply.$Properties): lars.RegistryReply;

        /**
         * Encodes the specified RegistryReply message. Does not implicitly {@link lars.RegistryReply.verify|verify} messages.
         * @param message RegistryReply message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: lars.RegistryReply.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a RegistryReply message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {lars.RegistryReply & lars.RegistryReply.$Shape} RegistryReply
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): lars.RegistryReply & lars.RegistryReply.$Shape;

        /**
         * Gets the type url for RegistryReply
         * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns The type url
         */
        static getTypeUrl(prefix?: string): string;
    }

    namespace RegistryReply {

        /** Properties of a RegistryReply. */
        interface $Properties {

            /** RegistryReply seq */
            seq?: (number|null);

            /** RegistryReply status */
            status?: (number|null);

            /** RegistryReply reason */
            reason?: (string|null);

            /** RegistryReply lease */
            lease?: (number|null);

            /** RegistryReply ttlMs */
            ttlMs?: (number|null);

            /** RegistryReply ip */
            ip?: (number|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a RegistryReply. */
        type $Shape = lars.RegistryReply.$Properties;
    }

    /**
     * Properties of a KeepaliveRequest.
     * @deprecated Use lars.KeepaliveRequest.$Properties instead.
     */
    interface IKeepaliveRequest extends lars.KeepaliveRequest.$Properties {
    }

    /** Represents a KeepaliveRequest. */
    class KeepaliveRequest {

        /**
         * Constructs a new KeepaliveRequest.
         * @param [properties] Properties to set
         */
        constructor(properties?: lars.KeepaliveRequest.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** KeepaliveRequest seq. */
        seq: number;

        /**
         * Creates a new KeepaliveRequest instance using the specified properties.
         * @param [properties] Properties to set
         * @returns KeepaliveRequest instance
         */
        static create(properties: lars.KeepaliveRequest.$Shape): lars.KeepaliveRequest & lars.KeepaliveRequest.$Shape;
        static create(properties?: lars.KeepaliveRequest.$Properties): lars.KeepaliveRequest;

        /**
         * Encodes the specified KeepaliveRequest message. Does not implicitly {@link lars.KeepaliveRequest.verify|verify} messages.
         * @param message KeepaliveRequest message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: lars.KeepaliveRequest.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a KeepaliveRequest message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {lars.KeepaliveRequest & lars.KeepaliveRequest.$Shape} KeepaliveRequest
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): lars.KeepaliveRequest & lars.KeepaliveRequest.$Shape;

        /**
         * Gets the type url for KeepaliveRequest
         * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns The type url
         */
        static getTypeUrl(prefix?: string): string;
    }

    namespace KeepaliveRequest {

        /** Properties of a KeepaliveRequest. */
        interface $Properties {

            /** KeepaliveRequest seq */
            seq?: (number|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a KeepaliveRequest. */
        type $Shape = lars.KeepaliveRequest.$Properties;
    }

    /**
     * Properties of a KeepaliveReply.
     * @deprecated Use lars.KeepaliveReply.$Properties instead.
     */
    interface IKeepaliveReply extends lars.KeepaliveReply.$Properties {
    }

    /** Represents a KeepaliveReply. */
    class KeepaliveReply {

        /**
         * Constructs a new KeepaliveReply.
         * @param [properties] Properties to set
         */
        constructor(properties?: lars.KeepaliveReply.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** KeepaliveReply seq. */
        seq: number;

        /**
         * Creates a new KeepaliveReply instance using the specified properties.
         * @param [properties] Properties to set
         * @returns KeepaliveReply instance
         */
        static create(properties: lars.KeepaliveReply.$Shape): lars.KeepaliveReply & lars.KeepaliveReply.$Shape;
        static create(properties?: lars.KeepaliveReply.$Properties): lars.KeepaliveReply;

        /**
         * Encodes the specified KeepaliveReply message. Does not implicitly {@link lars.KeepaliveReply.verify|verify} messages.
         * @param message KeepaliveReply message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: lars.KeepaliveReply.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a KeepaliveReply message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {lars.KeepaliveReply & lars.KeepaliveReply.$Shape} KeepaliveReply
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): lars.KeepaliveReply & lars.KeepaliveReply.$Shape;

        /**
         * Gets the type url for KeepaliveReply
         * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns The type url
         */
        static getTypeUrl(prefix?: string): string;
    }

    namespace KeepaliveReply {

        /** Properties of a KeepaliveReply. */
        interface $Properties {

            /** KeepaliveReply seq */
            seq?: (number|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a KeepaliveReply. */
        type $Shape = lars.KeepaliveReply.$Properties;
    }

    /**
     * Properties of a ReportAck.
     * @deprecated Use lars.ReportAck.$Properties instead.
     */
    interface IReportAck extends lars.ReportAck.$Properties {
    }

    /** Represents a ReportAck. */
    class ReportAck {

        /**
         * Constructs a new ReportAck.
         * @param [properties] Properties to set
         */
        constructor(properties?: lars.ReportAck.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** ReportAck seq. */
        seq: number[];

        /**
         * Creates a new ReportAck instance using the specified properties.
         * @param [properties] Properties to set
         * @returns ReportAck instance
         */
        static create(properties: lars.ReportAck.$Shape): lars.ReportAck & lars.ReportAck.$Shape;
        static create(properties?: lars.ReportAck.$Properties): lars.ReportAck;

        /**
         * Encodes the specified ReportAck message. Does not implicitly {@link lars.ReportAck.verify|verify} messages.
         * @param message ReportAck message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: lars.ReportAck.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a ReportAck message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {lars.ReportAck & lars.ReportAck.$Shape} ReportAck
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): lars.ReportAck & lars.ReportAck.$Shape;

        /**
         * Gets the type url for ReportAck
         * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns The type url
         */
        static getTypeUrl(prefix?: string): string;
    }

    namespace ReportAck {

        /** Properties of a ReportAck. */
        interface $Properties {

            /** ReportAck seq */
            seq?: (number[]|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a ReportAck. */
        type $Shape = lars.ReportAck.$Properties;
    }

    /**
     * Properties of an AuthRequest.
     * @deprecated Use lars.AuthRequest.$Properties instead.
     */
    interface IAuthRequest extends lars.AuthRequest.$Properties {
    }

    /** Represents an AuthRequest. */
    class AuthRequest {

        /**
         * Constructs a new AuthRequest.
         * @param [properties] Properties to set
         */
        constructor(properties?: lars.AuthRequest.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** AuthRequest token. */
        token: string;

        /**
         * Creates a new AuthRequest instance using the specified properties.
         * @param [properties] Properties to set
         * @returns AuthRequest instance
         */
        static create(properties: lars.AuthRequest.$Shape): lars.AuthRequest & lars.AuthRequest.$Shape;
        static create(properties?: lars.AuthRequest.$Properties): lars.AuthRequest;

        /**
         * Encodes the specified AuthRequest message. Does not implicitly {@link lars.AuthRequest.verify|verify} messages.
         * @param message AuthRequest message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: lars.AuthRequest.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes an AuthRequest message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {lars.AuthRequest & lars.AuthRequest.$Shape} AuthRequest
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): lars.AuthRequest & lars.AuthRequest.$Shape;

        /**
         * Gets the type url for AuthRequest
         * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns The type url
         */
        static getTypeUrl(prefix?: string): string;
    }

    namespace AuthRequest {

        /** Properties of an AuthRequest. */
        interface $Properties {

            /** AuthRequest token */
            token?: (string|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of an AuthRequest. */
        type $Shape = lars.AuthRequest.$Properties;
    }

    /**
     * Properties of an AuthRefused.
     * @deprecated Use lars.AuthRefused.$Properties instead.
     */
    interface IAuthRefused extends lars.AuthRefused.$Properties {
    }

    /** Represents an AuthRefused. */
    class AuthRefused {

        /**
         * Constructs a new AuthRefused.
         * @param [properties] Properties to set
         */
        constructor(properties?: lars.AuthRefused.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** AuthRefused reason. */
        reason: string;

        /**
         * Creates a new AuthRefused instance using the specified properties.
         * @param [properties] Properties to set
         * @returns AuthRefused instance
         */
        static create(properties: lars.AuthRefused.$Shape): lars.AuthRefused & lars.AuthRefused.$Shape;
        static create(properties?: lars.AuthRefused.$Properties): lars.AuthRefused;

        /**
         * Encodes the specified AuthRefused message. Does not implicitly {@link lars.AuthRefused.verify|verify} messages.
         * @param message AuthRefused message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: lars.AuthRefused.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes an AuthRefused message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {lars.AuthRefused & lars.AuthRefused.$Shape} AuthRefused
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): lars.AuthRefused & lars.AuthRefused.$Shape;

        /**
         * Gets the type url for AuthRefused
         * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns The type url
         */
        static getTypeUrl(prefix?: string): string;
    }

    namespace AuthRefused {

        /** Properties of an AuthRefused. */
        interface $Properties {

            /** AuthRefused reason */
            reason?: (string|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of an AuthRefused. */
        type $Shape = lars.AuthRefused.$Properties;
    }
}
