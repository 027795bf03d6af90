/*
 * lars_udp: batched UDP I/O for the agent's ports (src/reactor/udp-port.ts).
 *
 * Node 20's dgram costs one libuv callback, one Buffer, one RemoteInfo and
 * one send request per datagram. Here a port is an IPv4 socket watched by a
 * uv_poll_t on the worker's own event loop: when it becomes readable, up to
 * `slots` datagrams are read with one recvmmsg into memory JavaScript shares
 * (the datagrams in fixed slots, their lengths and senders in a Float64Array)
 * and JavaScript is called once for the whole batch. Replies are queued by
 * JavaScript into a second shared area and sent with sendmmsg.
 *
 * Because the waiting is done by the event loop itself, the worker keeps
 * serving its message port and timers between batches; nothing blocks for
 * long: a callback handles at most BATCHES_PER_CALLBACK batches.
 *
 * Busy polling: a request/reply client sends its next datagram a few
 * microseconds after our reply. Sleeping in epoll in between costs two
 * context switches and, on a virtual machine, waking an idle vCPU, which is
 * dearer than the request itself. So after the socket runs dry the port
 * keeps the event loop from sleeping for a window of time (an idle handle
 * makes libuv poll epoll without blocking), so the next datagram is read as
 * soon as the loop comes round and timers, messages and the thread's other
 * ports are served meanwhile.
 * The window adapts like KVM's halt polling: after a sleep, it doubles (from
 * 10 µs up to busyPollUs) when the idle gap was short enough to have been
 * covered, and halves (below 10 µs: 0) when it was not, so a quiet or slow
 * port soon stops spinning and a busy one spins only between datagrams that
 * come close together. Each empty poll yields the CPU: a reply's wakeup
 * often puts the client on this CPU, and spinning over it would delay the
 * very request being waited for (measured: without the yield, busy polling
 * lost to plain epoll when clients and ports share two cores).
 *
 * A sender is packed into one number, ip * 65536 + port (IPv4, host order):
 * exact in a double, cheap to keep for held requests, no object per datagram.
 *
 * Lifetime: a port is owned by its uv handle and by its JavaScript external;
 * the memory is freed when both are gone. Closing (from JavaScript, from the
 * external's finalizer or from the environment's async cleanup hook when a
 * worker is terminated) stops polling and closes the socket at once, so the
 * port number is free again when close() returns.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define MAX_SLOTS 1024
#define PEER_PORTS 65536.0
#define BATCHES_PER_CALLBACK 16
#define SPIN_START_NS 10000u

typedef struct udp_port {
  napi_env env;
  uv_poll_t poll;
  uv_idle_t spin; /* active while the busy-polling window is open */
  int fd;
  int open;
  int owners; /* the two uv handles and the JavaScript external */
  int last_send_errno;
  uint64_t spin_max_ns; /* 0: never busy-poll */
  uint64_t spin_ns;     /* the current window */
  uint64_t idle_since_ns;
  int slept;
  napi_ref on_batch;
  napi_ref buffers[4];
  napi_async_context async_context;
  napi_async_cleanup_hook_handle cleanup;

  uint8_t *in_data;
  size_t in_slot_size;
  uint32_t in_slots;
  double *in_meta; /* per slot: length, packed sender */
  struct mmsghdr *in_msgs;
  struct iovec *in_iov;
  struct sockaddr_in *in_names;

  uint8_t *out_data;
  size_t out_size;
  uint32_t out_slots;
  double *out_meta; /* per queued reply: length, packed destination */
  struct mmsghdr *out_msgs;
  struct iovec *out_iov;
  struct sockaddr_in *out_names;
} udp_port;

/* ---- errors ---- */

static napi_value throw_errno(napi_env env, const char *syscall, int err) {
  char message[160];
  snprintf(message, sizeof message, "%s %s: %s", syscall, uv_err_name(-err), strerror(err));
  napi_value code, text, error;
  napi_create_string_utf8(env, uv_err_name(-err), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &error);
  napi_value number, name;
  napi_create_int32(env, err, &number);
  napi_set_named_property(env, error, "errno", number);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &name);
  napi_set_named_property(env, error, "syscall", name);
  napi_throw(env, error);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return NULL;
}

/* ---- lifetime ---- */

static void release(udp_port *p) {
  if (--p->owners > 0) return;
  free(p->in_msgs);
  free(p->in_iov);
  free(p->in_names);
  free(p->out_msgs);
  free(p->out_iov);
  free(p->out_names);
  free(p);
}

static void on_spin_closed(uv_handle_t *handle) {
  release(handle->data);
}

static void on_poll_closed(uv_handle_t *handle) {
  udp_port *p = handle->data;
  if (p->cleanup != NULL) {
    /* Closed by the environment's teardown: tell Node this port is done. */
    napi_remove_async_cleanup_hook(p->cleanup);
    p->cleanup = NULL;
  }
  release(p);
}

/* Stops polling and closes the socket now; the uv handle closes on the next loop turn. */
static void shut(udp_port *p) {
  if (!p->open) return;
  p->open = 0;
  uv_poll_stop(&p->poll);
  uv_idle_stop(&p->spin);
  close(p->fd);
  p->fd = -1;
  uv_close((uv_handle_t *)&p->spin, on_spin_closed);
  uv_close((uv_handle_t *)&p->poll, on_poll_closed);
}

/* References to JavaScript values may only be dropped while the environment still runs. */
static void drop_references(udp_port *p) {
  napi_delete_reference(p->env, p->on_batch);
  for (int i = 0; i < 4; i++) napi_delete_reference(p->env, p->buffers[i]);
  napi_async_destroy(p->env, p->async_context);
}

/* The worker (or process) is going away. Once the handle is closed, on_poll_closed removes this hook. */
static void on_env_teardown(napi_async_cleanup_hook_handle handle, void *data) {
  udp_port *p = data;
  (void)handle;
  shut(p); /* a no-op if reading already stopped: its close is still pending then */
}

static void on_external_finalized(napi_env env, void *data, void *hint) {
  udp_port *p = data;
  (void)env;
  (void)hint;
  if (p->open) {
    napi_remove_async_cleanup_hook(p->cleanup);
    p->cleanup = NULL;
    shut(p);
  }
  release(p);
}

/* ---- receiving ---- */

/* Calls onBatch(count, errno) as a proper callback (async context, microtasks drained afterwards). */
static void deliver(udp_port *p, int count, int err) {
  napi_env env = p->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value callback, receiver, argv[2], result;
  napi_get_reference_value(env, p->on_batch, &callback);
  napi_get_global(env, &receiver); /* napi_make_callback wants an object */
  napi_create_int32(env, count, &argv[0]);
  napi_create_int32(env, err, &argv[1]);
  napi_status status = napi_make_callback(env, p->async_context, receiver, callback, 2, argv, &result);
  if (status == napi_pending_exception) {
    napi_value exception;
    napi_valuetype type = napi_undefined;
    napi_get_and_clear_last_exception(env, &exception);
    napi_typeof(env, exception, &type);
    /* A terminating worker cannot run JavaScript: the call fails or leaves an empty exception. Stop reading. */
    if (type == napi_undefined || type == napi_null) shut(p);
    else napi_fatal_exception(env, exception);
  } else if (status != napi_ok) {
    shut(p);
  }
  napi_close_handle_scope(env, scope);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* After a sleep in epoll: would a wider window have caught the datagram that ended it? */
static void adapt_spin(udp_port *p) {
  uint64_t gap = now_ns() - p->idle_since_ns;
  if (gap <= p->spin_max_ns) {
    p->spin_ns = p->spin_ns < SPIN_START_NS ? SPIN_START_NS : p->spin_ns * 2;
    if (p->spin_ns > p->spin_max_ns) p->spin_ns = p->spin_max_ns;
  } else {
    p->spin_ns /= 2;
    if (p->spin_ns < SPIN_START_NS) p->spin_ns = 0;
  }
}

/*
 * While the window is open the loop must not sleep: an active idle handle
 * makes libuv poll without blocking, so the next datagram is read as soon as
 * the loop comes round, and timers, messages and the thread's other ports
 * are served in between. Once the window has passed with nothing read, the
 * handle stops and the loop sleeps in epoll until the next datagram.
 */
static void on_spin(uv_idle_t *handle) {
  udp_port *p = handle->data;
  if (now_ns() - p->idle_since_ns >= p->spin_ns) {
    uv_idle_stop(handle);
    p->slept = 1;
    return;
  }
  /* Poll politely: the client we just answered may be waiting for this very CPU. */
  sched_yield();
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  udp_port *p = handle->data;
  (void)events;
  if (status < 0) {
    /* libuv stops a handle on POLLERR: report the socket's pending error (which clears it), then watch again. */
    int err = 0;
    socklen_t length = sizeof err;
    getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &length);
    deliver(p, 0, err != 0 ? err : -status);
    if (p->open) uv_poll_start(&p->poll, UV_READABLE, on_readable);
    return;
  }
  if (p->slept && p->spin_max_ns > 0) adapt_spin(p);
  p->slept = 0;
  for (int batches = 0; p->open && batches < BATCHES_PER_CALLBACK;) {
    for (uint32_t i = 0; i < p->in_slots; i++) p->in_msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
    int n = recvmmsg(p->fd, p->in_msgs, p->in_slots, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      /* Anything but "nothing left" (e.g. an ICMP error queued on the socket) is reported, never fatal. */
      if (errno != EAGAIN && errno != EWOULDBLOCK) deliver(p, 0, errno);
      break;
    }
    for (int i = 0; i < n; i++) {
      const struct sockaddr_in *from = &p->in_names[i];
      p->in_meta[2 * i] = p->in_msgs[i].msg_len;
      p->in_meta[2 * i + 1] = from->sin_family == AF_INET ? ntohl(from->sin_addr.s_addr) * PEER_PORTS + ntohs(from->sin_port) : -1;
    }
    deliver(p, n, 0);
    batches++;
    /*
     * Read again until the socket is empty: a client's next datagram often
     * arrives while this batch is handled (a report, then its next request),
     * and reading it now is cheaper than another trip through epoll. After
     * BATCHES_PER_CALLBACK the loop serves its timers and messages; epoll
     * then reports the still readable socket at once.
     */
    p->idle_since_ns = now_ns();
  }
  if (!p->open) return;
  if (p->spin_ns > 0) uv_idle_start(&p->spin, on_spin);
  else p->slept = 1; /* back to epoll until the next datagram */
}

/* ---- JavaScript API ---- */

static udp_port *port_arg(napi_env env, napi_value value) {
  void *data = NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok || data == NULL) {
    throw_type(env, "expected a lars_udp port handle");
    return NULL;
  }
  return data;
}

static int float64_arg(napi_env env, napi_value value, double **data, size_t *length) {
  bool is_typed = false;
  napi_typedarray_type type;
  napi_is_typedarray(env, value, &is_typed);
  if (!is_typed) return 0;
  napi_get_typedarray_info(env, value, &type, length, (void **)data, NULL, NULL);
  return type == napi_float64_array;
}

static int buffer_arg(napi_env env, napi_value value, uint8_t **data, size_t *length) {
  bool is_buffer = false;
  napi_is_buffer(env, value, &is_buffer);
  return is_buffer && napi_get_buffer_info(env, value, (void **)data, length) == napi_ok;
}

/*
 * open(host, port, inData, inMeta, outData, outMeta, onBatch, busyPollUs) -> handle
 * inMeta has 2 numbers per receive slot (inData is split into equal slots);
 * outMeta 2 per reply that may be queued; onBatch(count, errno); busyPollUs
 * the widest busy-polling window (0: never).
 */
static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 8) return throw_type(env, "open(host, port, inData, inMeta, outData, outMeta, onBatch, busyPollUs)");

  char host[64];
  size_t host_length = 0;
  struct sockaddr_in address = {.sin_family = AF_INET};
  if (napi_get_value_string_utf8(env, argv[0], host, sizeof host, &host_length) != napi_ok ||
      inet_pton(AF_INET, host, &address.sin_addr) != 1) {
    return throw_type(env, "host must be an IPv4 address");
  }
  int32_t port = -1;
  napi_get_value_int32(env, argv[1], &port);
  if (port < 0 || port > 65535) return throw_type(env, "port must be 0..65535");
  address.sin_port = htons((uint16_t)port);
  uint32_t busy_poll_us = 0;
  if (napi_get_value_uint32(env, argv[7], &busy_poll_us) != napi_ok || busy_poll_us > 1000000) {
    return throw_type(env, "busyPollUs must be 0..1000000");
  }

  uint8_t *in_data, *out_data;
  double *in_meta, *out_meta;
  size_t in_size, in_meta_length, out_size, out_meta_length;
  napi_valuetype callback_type;
  napi_typeof(env, argv[6], &callback_type);
  if (!buffer_arg(env, argv[2], &in_data, &in_size) || !float64_arg(env, argv[3], &in_meta, &in_meta_length) ||
      !buffer_arg(env, argv[4], &out_data, &out_size) || !float64_arg(env, argv[5], &out_meta, &out_meta_length) ||
      callback_type != napi_function) {
    return throw_type(env, "inData/outData must be Buffers, inMeta/outMeta Float64Arrays, onBatch a function");
  }
  uint32_t in_slots = (uint32_t)(in_meta_length / 2), out_slots = (uint32_t)(out_meta_length / 2);
  if (in_slots == 0 || in_slots > MAX_SLOTS || out_slots == 0 || out_slots > MAX_SLOTS || in_size < in_slots) {
    return throw_type(env, "between 1 and 1024 receive and send slots are required");
  }

  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "bind", err);
  }

  udp_port *p = calloc(1, sizeof *p);
  if (p != NULL) {
    p->in_msgs = calloc(in_slots, sizeof *p->in_msgs);
    p->in_iov = calloc(in_slots, sizeof *p->in_iov);
    p->in_names = calloc(in_slots, sizeof *p->in_names);
    p->out_msgs = calloc(out_slots, sizeof *p->out_msgs);
    p->out_iov = calloc(out_slots, sizeof *p->out_iov);
    p->out_names = calloc(out_slots, sizeof *p->out_names);
  }
  if (p == NULL || !p->in_msgs || !p->in_iov || !p->in_names || !p->out_msgs || !p->out_iov || !p->out_names) {
    close(fd);
    if (p != NULL) {
      p->owners = 1;
      release(p);
    }
    return throw_errno(env, "open", ENOMEM);
  }
  p->env = env;
  p->fd = fd;
  p->spin_max_ns = (uint64_t)busy_poll_us * 1000u;
  p->in_data = in_data;
  p->in_slots = in_slots;
  p->in_slot_size = in_size / in_slots;
  p->in_meta = in_meta;
  p->out_data = out_data;
  p->out_size = out_size;
  p->out_slots = out_slots;
  p->out_meta = out_meta;
  for (uint32_t i = 0; i < in_slots; i++) {
    p->in_iov[i] = (struct iovec){.iov_base = in_data + i * p->in_slot_size, .iov_len = p->in_slot_size};
    p->in_msgs[i].msg_hdr = (struct msghdr){.msg_name = &p->in_names[i], .msg_iov = &p->in_iov[i], .msg_iovlen = 1};
  }
  for (uint32_t i = 0; i < out_slots; i++) {
    p->out_msgs[i].msg_hdr = (struct msghdr){.msg_name = &p->out_names[i], .msg_namelen = sizeof(struct sockaddr_in), .msg_iov = &p->out_iov[i], .msg_iovlen = 1};
  }

  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  uv_poll_init(loop, &p->poll, fd);
  p->poll.data = p;
  uv_idle_init(loop, &p->spin);
  p->spin.data = p;
  /* The socket's poll handle is what keeps the loop alive, never the window. */
  uv_unref((uv_handle_t *)&p->spin);
  p->open = 1;
  p->owners = 3;
  napi_create_reference(env, argv[6], 1, &p->on_batch);
  const int held[4] = {2, 3, 4, 5};
  for (int i = 0; i < 4; i++) napi_create_reference(env, argv[held[i]], 1, &p->buffers[i]);
  napi_value resource_name;
  napi_create_string_utf8(env, "lars_udp", NAPI_AUTO_LENGTH, &resource_name);
  napi_async_init(env, NULL, resource_name, &p->async_context);
  napi_add_async_cleanup_hook(env, on_env_teardown, p, &p->cleanup);
  int err = uv_poll_start(&p->poll, UV_READABLE, on_readable);

  napi_value handle;
  napi_create_external(env, p, on_external_finalized, NULL, &handle);
  if (err != 0) {
    napi_remove_async_cleanup_hook(p->cleanup);
    p->cleanup = NULL;
    drop_references(p);
    shut(p);
    return throw_errno(env, "uv_poll_start", -err);
  }
  return handle;
}

/* localPort(handle) -> the bound port (useful after binding port 0). */
static napi_value LocalPort(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  udp_port *p = port_arg(env, argv[0]);
  if (p == NULL) return NULL;
  if (!p->open) return throw_errno(env, "getsockname", EBADF);
  struct sockaddr_in address;
  socklen_t length = sizeof address;
  if (getsockname(p->fd, (struct sockaddr *)&address, &length) != 0) return throw_errno(env, "getsockname", errno);
  napi_create_int32(env, ntohs(address.sin_port), &result);
  return result;
}

/* setRecvBufferSize(handle, bytes): SO_RCVBUF (the kernel caps it at net.core.rmem_max). */
static napi_value SetRecvBufferSize(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  udp_port *p = port_arg(env, argv[0]);
  if (p == NULL) return NULL;
  int32_t size = 0;
  napi_get_value_int32(env, argv[1], &size);
  if (!p->open) return throw_errno(env, "setsockopt", EBADF);
  if (setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) != 0) return throw_errno(env, "setsockopt", errno);
  return NULL;
}

/*
 * send(handle, count) -> number of replies that could not be sent.
 * Reply i is outMeta[2i] bytes of outData, right after reply i-1, to the
 * packed destination outMeta[2i+1]. A failed reply (EAGAIN, EMSGSIZE, ...) is
 * skipped and counted; lastSendError(handle) tells the errno of the last one.
 */
static napi_value Send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  udp_port *p = port_arg(env, argv[0]);
  if (p == NULL) return NULL;
  uint32_t count = 0;
  napi_get_value_uint32(env, argv[1], &count);
  if (count > p->out_slots) return throw_type(env, "more replies than send slots");
  int failed = 0;
  if (!p->open) {
    p->last_send_errno = EBADF;
    failed = (int)count;
    count = 0;
  }
  size_t offset = 0;
  for (uint32_t i = 0; i < count; i++) {
    double length = p->out_meta[2 * i], peer = p->out_meta[2 * i + 1];
    if (!(length >= 0) || offset + (size_t)length > p->out_size) return throw_type(env, "replies overrun outData");
    struct sockaddr_in *to = &p->out_names[i];
    to->sin_family = AF_INET;
    if (peer >= 0 && peer < 4294967296.0 * PEER_PORTS) {
      uint64_t packed = (uint64_t)peer;
      to->sin_addr.s_addr = htonl((uint32_t)(packed >> 16));
      to->sin_port = htons((uint16_t)(packed & 0xffff));
    } else {
      to->sin_addr.s_addr = htonl(INADDR_ANY);
      to->sin_port = 0; /* the kernel refuses it: counted as a failure below */
    }
    p->out_iov[i] = (struct iovec){.iov_base = p->out_data + offset, .iov_len = (size_t)length};
    offset += (size_t)length;
  }
  for (uint32_t next = 0; next < count;) {
    int sent = sendmmsg(p->fd, p->out_msgs + next, count - next, 0);
    if (sent > 0) {
      next += (uint32_t)sent;
    } else if (errno != EINTR) {
      /* sendmmsg reports the error of the first message it could not send: skip that one. */
      p->last_send_errno = errno;
      failed++;
      next++;
    }
  }
  napi_create_int32(env, failed, &result);
  return result;
}

/* lastSendError(handle) -> errno name of the last failed reply, e.g. "EMSGSIZE". */
static napi_value LastSendError(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  udp_port *p = port_arg(env, argv[0]);
  if (p == NULL) return NULL;
  napi_create_string_utf8(env, p->last_send_errno ? uv_err_name(-p->last_send_errno) : "", NAPI_AUTO_LENGTH, &result);
  return result;
}

/* close(handle): stops reading and closes the socket now; idempotent. */
static napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  udp_port *p = port_arg(env, argv[0]);
  if (p == NULL || !p->open) return NULL;
  napi_remove_async_cleanup_hook(p->cleanup);
  p->cleanup = NULL;
  drop_references(p);
  shut(p);
  return NULL;
}

NAPI_MODULE_INIT() {
  const napi_property_descriptor functions[] = {
      {"open", NULL, Open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"localPort", NULL, LocalPort, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setRecvBufferSize", NULL, SetRecvBufferSize, NULL, NULL, NULL, napi_enumerable, NULL},
      {"send", NULL, Send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lastSendError", NULL, LastSendError, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, Close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
  return exports;
}
