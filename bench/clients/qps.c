/*
 * A small, cheap Lars load client for the agent benchmark: N threads, each
 * with its own connected UDP socket, sending hand-encoded GetHostRequest
 * (msgid 4) datagrams and, in "loop" mode, a ReportRequest (msgid 6) for the
 * host it got, like Lars's own qps tool. It shares no code with the agent.
 *
 *   qps HOST BASE_PORT MODID CMDID THREADS SECONDS loop|gethost [SPREAD [DEPTH]]
 *
 * SPREAD=1 gives thread i the route (MODID, CMDID + i), so consecutive
 * threads reach consecutive agent ports; 0 (default) sends every thread to
 * the same route, hence the same agent port. DEPTH (default 1, Lars's
 * synchronous client) is the number of getHost requests each thread keeps in
 * flight.
 *
 * Prints one JSON line per second ({"second":S,"calls":N}) and a final JSON
 * line with the totals, p50/p99 latency of one iteration and this process's
 * own CPU time (getrusage), so the client's cost can be set against the
 * agent's.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_LATENCY_US 100000
#define RECV_TIMEOUT_US 200000
#define MAX_DEPTH 64

enum { MSG_GET_HOST_REQ = 4, MSG_GET_HOST_RSP = 5, MSG_REPORT_REQ = 6 };

struct worker {
  pthread_t thread;
  int index;
  int32_t modid, cmdid;
  struct sockaddr_in agent;
  /* Written by the worker, read by the main thread each second. */
  _Alignas(64) atomic_ulong calls;
  unsigned long timeouts, not_succ;
  uint32_t *latency_us; /* histogram, MAX_LATENCY_US + 1 buckets (last = overflow) */
};

static atomic_int running = 1;
static int report_after_get = 1;
static int depth = 1; /* getHost requests in flight per thread */

/* ---- protobuf varints, by hand ---- */

static size_t put_varint(uint8_t *out, uint64_t value) {
  size_t n = 0;
  while (value >= 0x80) {
    out[n++] = (uint8_t)(value | 0x80);
    value >>= 7;
  }
  out[n++] = (uint8_t)value;
  return n;
}

/* int32 fields: negative values are sign-extended to 64 bits (10 bytes). */
static size_t put_int32(uint8_t *out, int field, int32_t value) {
  size_t n = put_varint(out, (uint64_t)(field << 3));
  return n + put_varint(out + n, (uint64_t)(int64_t)value);
}

static size_t put_uint32(uint8_t *out, int field, uint32_t value) {
  size_t n = put_varint(out, (uint64_t)(field << 3));
  return n + put_varint(out + n, value);
}

static int get_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *value) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64 && *pos < len; shift += 7) {
    uint8_t b = p[(*pos)++];
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *value = v;
      return 0;
    }
  }
  return -1;
}

static void put_header(uint8_t *frame, int32_t msgid, size_t body_len) {
  int32_t len = (int32_t)body_len;
  memcpy(frame, &msgid, 4); /* little-endian host assumed (x86/arm64) */
  memcpy(frame + 4, &len, 4);
}

struct host_reply {
  uint32_t seq;
  int32_t retcode;
  int32_t ip, port;
};

/* Decodes a GetHostResponse body; unknown fields are skipped. */
static int decode_reply(const uint8_t *p, size_t len, struct host_reply *out) {
  size_t pos = 0;
  memset(out, 0, sizeof *out);
  while (pos < len) {
    uint64_t key, v;
    if (get_varint(p, len, &pos, &key)) return -1;
    int field = (int)(key >> 3), wire = (int)(key & 7);
    if (wire == 0) {
      if (get_varint(p, len, &pos, &v)) return -1;
      if (field == 1) out->seq = (uint32_t)v;
      else if (field == 4) out->retcode = (int32_t)v;
    } else if (wire == 2) {
      if (get_varint(p, len, &pos, &v) || pos + v > len) return -1;
      if (field == 5) {
        size_t hpos = pos, hend = pos + v;
        while (hpos < hend) {
          uint64_t hkey, hv;
          if (get_varint(p, hend, &hpos, &hkey) || (hkey & 7) != 0 || get_varint(p, hend, &hpos, &hv)) return -1;
          if ((hkey >> 3) == 1) out->ip = (int32_t)hv;
          else if ((hkey >> 3) == 2) out->port = (int32_t)hv;
        }
      }
      pos += v;
    } else if (wire == 5) {
      pos += 4;
    } else if (wire == 1) {
      pos += 8;
    } else {
      return -1;
    }
  }
  return 0;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sends GetHostRequest `seq` for the worker's route. */
static int send_get_host(struct worker *w, int fd, uint32_t seq) {
  uint8_t req[64];
  size_t n = 8;
  n += put_uint32(req + n, 1, seq);
  n += put_int32(req + n, 2, w->modid);
  n += put_int32(req + n, 3, w->cmdid);
  put_header(req, MSG_GET_HOST_REQ, n - 8);
  return send(fd, req, n, 0) < 0 ? -1 : 0;
}

/* Reports a successful call to the host the agent gave, as Lars's qps does. */
static void send_report(struct worker *w, int fd, const struct host_reply *reply) {
  uint8_t rep[64], host[32];
  size_t m = 8, host_len;
  host_len = put_int32(host, 1, reply->ip);
  host_len += put_int32(host + host_len, 2, reply->port);
  m += put_int32(rep + m, 1, w->modid);
  m += put_int32(rep + m, 2, w->cmdid);
  m += put_varint(rep + m, (3 << 3) | 2);
  m += put_varint(rep + m, host_len);
  memcpy(rep + m, host, host_len);
  m += host_len;
  m += put_int32(rep + m, 4, 0);
  put_header(rep, MSG_REPORT_REQ, m - 8);
  send(fd, rep, m, 0);
}

/*
 * One client thread. With depth 1 it is Lars's synchronous loop: send, wait
 * for the answer, report, repeat. With depth D it keeps D getHost requests in
 * flight on its socket (as a Node service does with concurrent calls on one
 * LarsClient), answers matched by seq; each answer is followed by its report
 * and a new request.
 */
static void *run_worker(void *arg) {
  struct worker *w = arg;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct timeval tv = {0, RECV_TIMEOUT_US};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (fd < 0 || connect(fd, (struct sockaddr *)&w->agent, sizeof w->agent) != 0) {
    perror("qps: socket/connect");
    exit(1);
  }
  uint8_t in[65536];
  uint32_t next_seq = 0;
  uint32_t seqs[MAX_DEPTH];
  uint64_t started[MAX_DEPTH];
  int in_flight = 0;
  while (atomic_load_explicit(&running, memory_order_relaxed)) {
    while (in_flight < depth) {
      seqs[in_flight] = ++next_seq;
      started[in_flight] = now_ns();
      if (send_get_host(w, fd, next_seq) != 0) break;
      in_flight++;
    }
    if (in_flight == 0) {
      w->timeouts++;
      usleep(1000);
      continue;
    }
    ssize_t r = recv(fd, in, sizeof in, 0);
    if (r < 0) {
      if (errno == ECONNREFUSED) usleep(10000); /* nothing listens yet: do not spin */
      w->timeouts += (unsigned long)in_flight;  /* timeout or refused: ask again */
      in_flight = 0;
      continue;
    }
    int32_t msgid, len;
    struct host_reply reply;
    if (r < 8) continue;
    memcpy(&msgid, in, 4);
    memcpy(&len, in + 4, 4);
    if (msgid != MSG_GET_HOST_RSP || len != r - 8 || decode_reply(in + 8, (size_t)len, &reply)) continue;
    int slot = 0;
    while (slot < in_flight && seqs[slot] != reply.seq) slot++;
    if (slot == in_flight) continue; /* a late reply to a timed-out request */
    uint64_t start = started[slot];
    in_flight--;
    seqs[slot] = seqs[in_flight];
    started[slot] = started[in_flight];
    if (reply.retcode != 0) w->not_succ++;
    else if (report_after_get) send_report(w, fd, &reply);
    uint64_t us = (now_ns() - start) / 1000;
    w->latency_us[us > MAX_LATENCY_US ? MAX_LATENCY_US : us]++;
    atomic_fetch_add_explicit(&w->calls, 1, memory_order_relaxed);
  }
  close(fd);
  return NULL;
}

static unsigned long total_calls(struct worker *ws, int n) {
  unsigned long sum = 0;
  for (int i = 0; i < n; i++) sum += atomic_load_explicit(&ws[i].calls, memory_order_relaxed);
  return sum;
}

static double cpu_seconds(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

int main(int argc, char **argv) {
  if (argc < 8) {
    fprintf(stderr, "usage: qps HOST BASE_PORT MODID CMDID THREADS SECONDS loop|gethost [SPREAD [DEPTH]]\n");
    return 2;
  }
  const char *host = argv[1];
  int base_port = atoi(argv[2]), threads = atoi(argv[5]), seconds = atoi(argv[6]);
  int32_t modid = atoi(argv[3]), cmdid = atoi(argv[4]);
  report_after_get = strcmp(argv[7], "loop") == 0;
  int spread = argc > 8 && atoi(argv[8]) != 0;
  if (argc > 9) depth = atoi(argv[9]);
  if (threads < 1 || threads > 256 || seconds < 1 || depth < 1 || depth > MAX_DEPTH) {
    fprintf(stderr, "qps: THREADS must be 1..256, SECONDS >= 1 and DEPTH 1..%d\n", MAX_DEPTH);
    return 2;
  }
  struct worker *ws = calloc((size_t)threads, sizeof *ws);
  for (int i = 0; i < threads; i++) {
    struct worker *w = &ws[i];
    w->index = i;
    w->modid = modid;
    w->cmdid = cmdid + (spread ? i : 0);
    w->latency_us = calloc(MAX_LATENCY_US + 1, sizeof(uint32_t));
    w->agent.sin_family = AF_INET;
    w->agent.sin_port = htons((uint16_t)(base_port + ((w->modid + w->cmdid) % 3 + 3) % 3));
    if (inet_pton(AF_INET, host, &w->agent.sin_addr) != 1) {
      fprintf(stderr, "qps: HOST must be an IPv4 address\n");
      return 2;
    }
  }
  uint64_t started = now_ns();
  for (int i = 0; i < threads; i++) pthread_create(&ws[i].thread, NULL, run_worker, &ws[i]);
  unsigned long previous = 0;
  for (int s = 1; s <= seconds; s++) {
    uint64_t until = started + (uint64_t)s * 1000000000u;
    for (uint64_t t = now_ns(); t < until; t = now_ns()) {
      struct timespec nap = {0, (long)(until - t)};
      nanosleep(&nap, NULL);
    }
    unsigned long calls = total_calls(ws, threads);
    printf("{\"second\":%d,\"calls\":%lu}\n", s, calls - previous);
    fflush(stdout);
    previous = calls;
  }
  atomic_store(&running, 0);
  for (int i = 0; i < threads; i++) pthread_join(ws[i].thread, NULL);
  double elapsed = (double)(now_ns() - started) / 1e9;

  unsigned long calls = 0, timeouts = 0, not_succ = 0;
  for (int i = 0; i < threads; i++) {
    calls += atomic_load(&ws[i].calls);
    timeouts += ws[i].timeouts;
    not_succ += ws[i].not_succ;
  }
  uint64_t seen = 0;
  long p50 = -1, p99 = -1;
  for (int us = 0; us <= MAX_LATENCY_US; us++) {
    for (int i = 0; i < threads; i++) seen += ws[i].latency_us[us];
    if (p50 < 0 && seen * 100 >= (uint64_t)calls * 50) p50 = us;
    if (p99 < 0 && seen * 100 >= (uint64_t)calls * 99) p99 = us;
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  printf("{\"threads\":%d,\"depth\":%d,\"mode\":\"%s\",\"spread\":%d,\"seconds\":%.3f,\"calls\":%lu,\"qps\":%.0f,"
         "\"p50_us\":%ld,\"p99_us\":%ld,\"timeouts\":%lu,\"not_succ\":%lu,\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f}\n",
         threads, depth, report_after_get ? "loop" : "gethost", spread, elapsed, calls, calls / elapsed, p50, p99, timeouts,
         not_succ, cpu_seconds(usage.ru_utime), cpu_seconds(usage.ru_stime));
  return 0;
}
