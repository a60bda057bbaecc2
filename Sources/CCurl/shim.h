#ifndef PIPE_CCURL_SHIM_H
#define PIPE_CCURL_SHIM_H
#include <curl/curl.h>
#ifdef __linux__
/* What CurlLoop waits on for libcurl's sockets (SocketWatch), which Glibc does not export. */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif

/* curl_easy_setopt and curl_multi_setopt are variadic, which Swift cannot call.
   These wrappers give each argument type a fixed signature. */
static inline CURLcode pipe_curl_easy_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode pipe_curl_easy_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode pipe_curl_easy_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode pipe_curl_easy_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode pipe_curl_easy_setopt_write_callback(CURL *h, CURLoption o, size_t (*v)(char *, size_t, size_t, void *)) { return curl_easy_setopt(h, o, v); }
static inline CURLcode pipe_curl_easy_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode pipe_curl_easy_getinfo_pointer(CURL *h, CURLINFO i, void **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLMcode pipe_curl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }
static inline CURLcode pipe_curl_easy_setopt_off_t(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode pipe_curl_easy_getinfo_off_t(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
/* The multi handle driven by its sockets (CurlLoop): who to tell which sockets to watch and
   when libcurl's next timeout is due. */
static inline CURLMcode pipe_curl_multi_setopt_pointer(CURLM *m, CURLMoption o, void *v) { return curl_multi_setopt(m, o, v); }
static inline CURLMcode pipe_curl_multi_setopt_socket_callback(CURLM *m, curl_socket_callback v) { return curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, v); }
static inline CURLMcode pipe_curl_multi_setopt_timer_callback(CURLM *m, curl_multi_timer_callback v) { return curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, v); }
static const curl_socket_t pipe_curl_socket_timeout = CURL_SOCKET_TIMEOUT;
#endif
