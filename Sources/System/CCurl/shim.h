/* libcurl's setopt/getinfo are variadic, which Swift cannot call: these typed
 * wrappers are the only way the HTTP client reaches them. */
#include <curl/curl.h>

typedef size_t (*bs_curl_data_cb)(char *data, size_t size, size_t count, void *user);

static inline CURLcode bs_curl_set_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode bs_curl_set_ptr(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode bs_curl_set_str(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode bs_curl_set_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode bs_curl_set_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode bs_curl_set_data_cb(CURL *h, CURLoption o, bs_curl_data_cb v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode bs_curl_get_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode bs_curl_get_ptr(CURL *h, CURLINFO i, void **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLMcode bs_curl_multi_set_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }

typedef curl_socket_t (*bs_curl_opensocket_cb)(void *user, curlsocktype purpose, struct curl_sockaddr *address);
static inline CURLcode bs_curl_set_opensocket_cb(CURL *h, bs_curl_opensocket_cb v) { return curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, v); }
