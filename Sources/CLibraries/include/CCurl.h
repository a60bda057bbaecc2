#ifndef PIPE_CCURL_H
#define PIPE_CCURL_H
#include <curl/curl.h>
#ifdef __linux__
/* What CurlLoop waits on for libcurl's sockets (SocketWatch), which Glibc does not export. */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif

/* Opens libcurl (the first call, on any thread): NULL once it is loaded, else what went wrong,
   naming the library and its package. */
const char *pipe_curl_load(void);

/* The functions pipe calls: the table's field, and the function's name in libcurl. */
#define PIPE_CURL_FUNCTIONS(X) \
    X(global_init, curl_global_init) \
    X(multi_init, curl_multi_init) \
    X(multi_cleanup, curl_multi_cleanup) \
    X(multi_add_handle, curl_multi_add_handle) \
    X(multi_remove_handle, curl_multi_remove_handle) \
    X(multi_socket_action, curl_multi_socket_action) \
    X(multi_info_read, curl_multi_info_read) \
    X(multi_strerror, curl_multi_strerror) \
    X(multi_setopt, curl_multi_setopt) \
    X(easy_init, curl_easy_init) \
    X(easy_reset, curl_easy_reset) \
    X(easy_cleanup, curl_easy_cleanup) \
    X(easy_setopt, curl_easy_setopt) \
    X(easy_getinfo, curl_easy_getinfo) \
    X(easy_strerror, curl_easy_strerror) \
    X(slist_append, curl_slist_append) \
    X(slist_free_all, curl_slist_free_all)

struct pipe_curl_functions {
#define PIPE_CURL_FIELD(field, symbol) __typeof__(symbol) *field;
    PIPE_CURL_FUNCTIONS(PIPE_CURL_FIELD)
#undef PIPE_CURL_FIELD
};
/* Filled by pipe_curl_load; read only after it returned NULL. */
extern struct pipe_curl_functions pipe_curl_library;

static inline CURLcode pipe_curl_global_init(long flags) { return pipe_curl_library.global_init(flags); }
static inline CURLM *pipe_curl_multi_init(void) { return pipe_curl_library.multi_init(); }
static inline CURLMcode pipe_curl_multi_cleanup(CURLM *m) { return pipe_curl_library.multi_cleanup(m); }
static inline CURLMcode pipe_curl_multi_add_handle(CURLM *m, CURL *h) { return pipe_curl_library.multi_add_handle(m, h); }
static inline CURLMcode pipe_curl_multi_remove_handle(CURLM *m, CURL *h) { return pipe_curl_library.multi_remove_handle(m, h); }
static inline CURLMcode pipe_curl_multi_socket_action(CURLM *m, curl_socket_t s, int mask, int *running) { return pipe_curl_library.multi_socket_action(m, s, mask, running); }
static inline CURLMsg *pipe_curl_multi_info_read(CURLM *m, int *remaining) { return pipe_curl_library.multi_info_read(m, remaining); }
static inline const char *pipe_curl_multi_strerror(CURLMcode c) { return pipe_curl_library.multi_strerror(c); }
static inline CURL *pipe_curl_easy_init(void) { return pipe_curl_library.easy_init(); }
static inline void pipe_curl_easy_reset(CURL *h) { pipe_curl_library.easy_reset(h); }
static inline void pipe_curl_easy_cleanup(CURL *h) { pipe_curl_library.easy_cleanup(h); }
static inline const char *pipe_curl_easy_strerror(CURLcode c) { return pipe_curl_library.easy_strerror(c); }
static inline struct curl_slist *pipe_curl_slist_append(struct curl_slist *l, const char *s) { return pipe_curl_library.slist_append(l, s); }
static inline void pipe_curl_slist_free_all(struct curl_slist *l) { pipe_curl_library.slist_free_all(l); }

/* curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt are variadic, which Swift cannot
   call: each argument type gets a fixed signature. */
static inline CURLcode pipe_curl_easy_setopt_long(CURL *h, CURLoption o, long v) { return pipe_curl_library.easy_setopt(h, o, v); }
static inline CURLcode pipe_curl_easy_setopt_string(CURL *h, CURLoption o, const char *v) { return pipe_curl_library.easy_setopt(h, o, v); }
static inline CURLcode pipe_curl_easy_setopt_pointer(CURL *h, CURLoption o, void *v) { return pipe_curl_library.easy_setopt(h, o, v); }
static inline CURLcode pipe_curl_easy_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return pipe_curl_library.easy_setopt(h, o, v); }
static inline CURLcode pipe_curl_easy_setopt_write_callback(CURL *h, CURLoption o, size_t (*v)(char *, size_t, size_t, void *)) { return pipe_curl_library.easy_setopt(h, o, v); }
static inline CURLcode pipe_curl_easy_setopt_off_t(CURL *h, CURLoption o, curl_off_t v) { return pipe_curl_library.easy_setopt(h, o, v); }
static inline CURLcode pipe_curl_easy_getinfo_long(CURL *h, CURLINFO i, long *v) { return pipe_curl_library.easy_getinfo(h, i, v); }
static inline CURLcode pipe_curl_easy_getinfo_pointer(CURL *h, CURLINFO i, void **v) { return pipe_curl_library.easy_getinfo(h, i, v); }
static inline CURLcode pipe_curl_easy_getinfo_off_t(CURL *h, CURLINFO i, curl_off_t *v) { return pipe_curl_library.easy_getinfo(h, i, v); }
static inline CURLMcode pipe_curl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return pipe_curl_library.multi_setopt(m, o, v); }
/* The multi handle driven by its sockets (CurlLoop): who to tell which sockets to watch and
   when libcurl's next timeout is due. */
static inline CURLMcode pipe_curl_multi_setopt_pointer(CURLM *m, CURLMoption o, void *v) { return pipe_curl_library.multi_setopt(m, o, v); }
static inline CURLMcode pipe_curl_multi_setopt_socket_callback(CURLM *m, curl_socket_callback v) { return pipe_curl_library.multi_setopt(m, CURLMOPT_SOCKETFUNCTION, v); }
static inline CURLMcode pipe_curl_multi_setopt_timer_callback(CURLM *m, curl_multi_timer_callback v) { return pipe_curl_library.multi_setopt(m, CURLMOPT_TIMERFUNCTION, v); }
static const curl_socket_t pipe_curl_socket_timeout = CURL_SOCKET_TIMEOUT;
#endif
