/*
 * lars_fd: descriptor flags that Node has no API for (loaded by
 * src/reactor/native-addon.ts).
 *
 * setCloseOnExec(fd): sets FD_CLOEXEC. A connection handed to a dispatcher
 * worker arrives through recvmsg (the usocket package) without it, so a
 * worker that spawns a child would leak every client socket it holds into
 * that child, and a client's connection would stay open for as long as the
 * child lives, whatever the worker does with it.
 */
#define NAPI_VERSION 8
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdio.h>
#include <string.h>

static napi_value set_close_on_exec(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "setCloseOnExec(fd): fd must be a descriptor number");
    return NULL;
  }
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
    char message[96];
    snprintf(message, sizeof message, "fcntl(%d, F_SETFD, FD_CLOEXEC): %s", fd, strerror(errno));
    napi_throw_error(env, NULL, message);
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "setCloseOnExec", NAPI_AUTO_LENGTH, set_close_on_exec, NULL, &fn);
  napi_set_named_property(env, exports, "setCloseOnExec", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
