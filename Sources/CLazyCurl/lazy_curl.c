// The curl functions FoundationNetworking (URLSession) calls, defined here and forwarded to
// libcurl.so.4, which is loaded on the first call instead of at every start of `airlock`.
// Airlock itself makes no HTTP requests through URLSession; the MCP SDK's HTTP client does,
// and it is linked in with the SDK. Loading libcurl at start mapped and relocated it and about
// twenty more shared libraries (GnuTLS, Kerberos, LDAP, libssh2, ...) on every `airlock` start.
// The release build drops the `-lcurl` autolink entry (tools/demo, tools/bench); in a build
// that keeps it, these definitions still win over libcurl's and forward to it.
#define CURL_DISABLE_TYPECHECK 1
#include "al_lazy_curl.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void *curl_library;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_open(void) { curl_library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL); }

/// The named libcurl function; a process that needs libcurl and cannot load it stops here, with
/// the loader's reason (the same end as a missing library at start, only later).
static void *curl_symbol(const char *name) {
    pthread_once(&curl_once, curl_open);
    void *symbol = curl_library != NULL ? dlsym(curl_library, name) : NULL;
    if (symbol == NULL) {
        const char *reason = dlerror();
        fprintf(stderr, "airlock: cannot load %s from libcurl.so.4: %s\n", name, reason ? reason : "not found");
        abort();
    }
    return symbol;
}

bool al_lazy_curl_loaded(void) {
    void *library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_NOLOAD);
    if (library != NULL) dlclose(library);
    return library != NULL;
}

const char *al_lazy_curl_version(void) { return curl_version(); }

// One forwarding function per libcurl function: the target is looked up once and kept.
#define AL_TARGET(ret, name, params)                                                    \
    static ret(*target) params;                                                         \
    ret(*fn) params = __atomic_load_n(&target, __ATOMIC_ACQUIRE);                       \
    if (fn == NULL) {                                                                   \
        fn = (ret(*) params)curl_symbol(#name);                                         \
        __atomic_store_n(&target, fn, __ATOMIC_RELEASE);                                \
    }
#define AL_FORWARD(ret, name, params, args)                                             \
    ret name params {                                                                   \
        AL_TARGET(ret, name, params)                                                    \
        return fn args;                                                                 \
    }
#define AL_FORWARD_VOID(name, params, args)                                             \
    void name params {                                                                  \
        AL_TARGET(void, name, params)                                                   \
        fn args;                                                                        \
    }

// The option setters and getinfo take exactly one argument after the option: a long, a
// pointer or a curl_off_t (curl's documented contract), all passed in one integer register on
// x86-64 and arm64, so it is forwarded as one pointer-sized value.
#define AL_FORWARD_OPTION(ret, name, handle_type, option_type)                          \
    ret name(handle_type handle, option_type option, ...) {                             \
        AL_TARGET(ret, name, (handle_type, option_type, ...))                           \
        va_list list;                                                                   \
        va_start(list, option);                                                         \
        void *value = va_arg(list, void *);                                             \
        va_end(list);                                                                   \
        return fn(handle, option, value);                                               \
    }

AL_FORWARD(CURLcode, curl_global_init, (long flags), (flags))
AL_FORWARD(char *, curl_version, (void), ())
AL_FORWARD(curl_version_info_data *, curl_version_info, (CURLversion age), (age))
AL_FORWARD_VOID(curl_free, (void *pointer), (pointer))
AL_FORWARD(CURL *, curl_easy_init, (void), ())
AL_FORWARD_VOID(curl_easy_cleanup, (CURL * handle), (handle))
AL_FORWARD(CURLcode, curl_easy_pause, (CURL * handle, int mask), (handle, mask))
AL_FORWARD(const char *, curl_easy_strerror, (CURLcode code), (code))
AL_FORWARD_OPTION(CURLcode, curl_easy_setopt, CURL *, CURLoption)
AL_FORWARD_OPTION(CURLcode, curl_easy_getinfo, CURL *, CURLINFO)
AL_FORWARD(CURLM *, curl_multi_init, (void), ())
AL_FORWARD(CURLMcode, curl_multi_cleanup, (CURLM * multi), (multi))
AL_FORWARD(CURLMcode, curl_multi_add_handle, (CURLM * multi, CURL *handle), (multi, handle))
AL_FORWARD(CURLMcode, curl_multi_remove_handle, (CURLM * multi, CURL *handle), (multi, handle))
AL_FORWARD(CURLMcode, curl_multi_assign, (CURLM * multi, curl_socket_t socket, void *pointer), (multi, socket, pointer))
AL_FORWARD(CURLMsg *, curl_multi_info_read, (CURLM * multi, int *left), (multi, left))
AL_FORWARD(
    CURLMcode, curl_multi_socket_action, (CURLM * multi, curl_socket_t socket, int mask, int *running),
    (multi, socket, mask, running))
AL_FORWARD_OPTION(CURLMcode, curl_multi_setopt, CURLM *, CURLMoption)
AL_FORWARD(struct curl_slist *, curl_slist_append, (struct curl_slist * list, const char *string), (list, string))
AL_FORWARD_VOID(curl_slist_free_all, (struct curl_slist * list), (list))
AL_FORWARD(CURLU *, curl_url, (void), ())
AL_FORWARD(
    CURLUcode, curl_url_get, (CURLU * url, CURLUPart part, char **out, unsigned int flags), (url, part, out, flags))
AL_FORWARD(
    CURLUcode, curl_url_set, (CURLU * url, CURLUPart part, const char *value, unsigned int flags),
    (url, part, value, flags))
