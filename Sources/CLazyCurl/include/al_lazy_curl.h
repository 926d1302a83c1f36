#ifndef AL_LAZY_CURL_H
#define AL_LAZY_CURL_H

#include <stdbool.h>

/// Whether libcurl has been loaded into this process by a call to one of the curl functions
/// FoundationNetworking uses (lazy_curl.c defines them and loads libcurl.so.4 on the first).
bool al_lazy_curl_loaded(void);

/// libcurl's version string, through the same lazy path URLSession takes (loads libcurl).
const char *al_lazy_curl_version(void);

#endif
