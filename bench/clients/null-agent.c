/*
 * The cheapest possible stand-in for an agent, for the agent benchmark's
 * reference rows: one thread per UDP port, blocking recvfrom/sendto, no
 * balancing. A GetHostRequest (msgid 4) is answered with a GetHostResponse
 * (msgid 5) that echoes its seq, modid and cmdid and names one fixed host;
 * everything else (reports, route requests, garbage) is read and dropped.
 *
 *   null-agent HOST BASE_PORT
 *
 * Prints "ready PORT" once the three ports (PORT..PORT+2) are bound and runs
 * until killed. BASE_PORT 0 takes the first of three free consecutive ports.
 *
 * A reference, not a ceiling: it makes one blocking system call per datagram
 * each way and sleeps in recvfrom between them, where the agent reads and
 * writes batches (recvmmsg/sendmmsg) and busy-polls for a moment before it
 * sleeps. So the agent beats it where those save wakeups (one synchronous
 * client thread, for instance), and it shows what a plain blocking server
 * gets from the same client and kernel elsewhere.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { MSG_GET_HOST_REQ = 4, MSG_GET_HOST_RSP = 5, HEADER = 8, PORTS = 3 };

/* HostInfo {ip: 167837697 (10.1.0.1 as an integer), port: 8001} as protobuf bytes. */
static const uint8_t FIXED_HOST[] = {0x08, 0x81, 0x80, 0x84, 0x50, 0x10, 0xc1, 0x3e};

/*
 * GetHostRequest's fields 1-3 (seq, modid, cmdid) have the same numbers and
 * types in GetHostResponse, so the request body is copied as it is and
 * retcode (4) = 0 and host (5) are appended.
 */
static size_t answer(const uint8_t *in, size_t len, uint8_t *out, size_t room) {
  int32_t msgid, body;
  if (len < HEADER) return 0;
  memcpy(&msgid, in, 4);
  memcpy(&body, in + 4, 4);
  if (msgid != MSG_GET_HOST_REQ || body < 0 || (size_t)body != len - HEADER) return 0;
  size_t n = HEADER + (size_t)body;
  if (n + 4 + sizeof FIXED_HOST > room) return 0;
  memcpy(out + HEADER, in + HEADER, (size_t)body);
  out[n++] = 4 << 3;
  out[n++] = 0;
  out[n++] = (5 << 3) | 2;
  out[n++] = sizeof FIXED_HOST;
  memcpy(out + n, FIXED_HOST, sizeof FIXED_HOST);
  n += sizeof FIXED_HOST;
  int32_t id = MSG_GET_HOST_RSP, out_body = (int32_t)(n - HEADER);
  memcpy(out, &id, 4); /* little-endian host assumed, as Lars does */
  memcpy(out + 4, &out_body, 4);
  return n;
}

static void *serve(void *arg) {
  int fd = (int)(intptr_t)arg;
  uint8_t in[65536], out[65536 + 64];
  for (;;) {
    struct sockaddr_in from;
    socklen_t from_len = sizeof from;
    ssize_t got = recvfrom(fd, in, sizeof in, 0, (struct sockaddr *)&from, &from_len);
    if (got < 0) continue;
    size_t n = answer(in, (size_t)got, out, sizeof out);
    if (n > 0) sendto(fd, out, n, 0, (struct sockaddr *)&from, from_len);
  }
  return NULL;
}

/* Binds fds[i] to base + i; with base 0 the kernel picks the first port. */
static int bind_ports(struct sockaddr_in address, int base, int fds[PORTS]) {
  for (int i = 0; i < PORTS; i++) fds[i] = -1;
  for (int i = 0; i < PORTS; i++) {
    fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
    address.sin_port = htons((uint16_t)(base == 0 ? 0 : base + i));
    if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&address, sizeof address) != 0) return -1;
    if (base == 0) {
      socklen_t len = sizeof address;
      getsockname(fds[i], (struct sockaddr *)&address, &len);
      base = ntohs(address.sin_port);
    }
  }
  return base;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: null-agent HOST BASE_PORT\n");
    return 2;
  }
  struct sockaddr_in address = {.sin_family = AF_INET};
  if (inet_pton(AF_INET, argv[1], &address.sin_addr) != 1) {
    fprintf(stderr, "null-agent: HOST must be an IPv4 address\n");
    return 2;
  }
  int requested = atoi(argv[2]), fds[PORTS], base = -1;
  /* A kernel-chosen first port may have a taken neighbour: try again. */
  for (int attempt = 0; attempt < 20 && base < 0; attempt++) {
    base = bind_ports(address, requested, fds);
    if (base < 0) {
      for (int i = 0; i < PORTS; i++)
        if (fds[i] >= 0) close(fds[i]);
      if (requested != 0) break;
    }
  }
  if (base < 0) {
    perror("null-agent: bind");
    return 1;
  }
  pthread_t threads[PORTS];
  for (int i = 0; i < PORTS; i++) pthread_create(&threads[i], NULL, serve, (void *)(intptr_t)fds[i]);
  printf("ready %d\n", base);
  fflush(stdout);
  pthread_join(threads[0], NULL);
  return 0;
}
