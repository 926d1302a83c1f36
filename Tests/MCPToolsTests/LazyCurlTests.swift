import CLazyCurl
import Testing

/// CLazyCurl's forwarding functions load libcurl and reach it: the path URLSession takes in the
/// release `airlock`, which has no `libcurl` among its start-up libraries (the `cli` benchmark
/// rows note what a start maps).
@Suite("libcurl through CLazyCurl")
struct LazyCurlTests {
    @Test func aForwardedCallLoadsLibcurlAndReturnsItsAnswer() {
        let version = String(cString: al_lazy_curl_version())
        #expect(version.hasPrefix("libcurl/"), "\(version)")
        #expect(al_lazy_curl_loaded())
    }
}
