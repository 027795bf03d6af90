{
  "targets": [
    {
      # The agent's batched UDP fast path (native/udp_batch.c, loaded by
      # src/reactor/udp-port.ts). recvmmsg/sendmmsg are Linux calls: elsewhere
      # nothing is built and the agent uses node:dgram.
      "target_name": "lars_udp",
      "conditions": [
        ["OS=='linux'", {
          "sources": ["native/udp_batch.c"],
          "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11"]
        }, {
          "type": "none"
        }]
      ]
    },
    {
      # Close-on-exec for descriptors received by dispatcher workers
      # (native/fd_flags.c, loaded by src/dispatcher/attach.ts).
      "target_name": "lars_fd",
      "conditions": [
        ["OS!='win'", {
          "sources": ["native/fd_flags.c"],
          "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11"]
        }, {
          "type": "none"
        }]
      ]
    }
  ]
}
