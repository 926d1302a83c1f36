extension Doctor {
    /// Proxy variables, matched whatever their case.
    public static let proxyVariables: Set<String> = [
        "http_proxy", "https_proxy", "ftp_proxy", "all_proxy", "no_proxy", "socks_proxy", "socks5_proxy",
        "grpc_proxy", "rsync_proxy", "wss_proxy", "ws_proxy",
    ]

    /// Telemetry and remote-endpoint variables, matched exactly.
    public static let telemetryVariables: Set<String> = [
        "SENTRY_DSN", "HF_ENDPOINT", "OPENAI_BASE_URL", "OPENAI_API_BASE", "LANGCHAIN_ENDPOINT",
        "LANGCHAIN_TRACING_V2", "HONEYCOMB_API_KEY",
    ]

    /// Telemetry variable families, matched by prefix: OpenTelemetry, Datadog, Hugging Face Hub,
    /// Sentry, New Relic, Elastic APM, LangSmith, Weights & Biases.
    public static let telemetryPrefixes = [
        "OTEL_", "DD_", "HF_HUB_", "SENTRY_", "NEW_RELIC_", "ELASTIC_APM_", "LANGSMITH_", "WANDB_",
    ]

    /// Whether `name` is a proxy or telemetry variable.
    public static func isProxyOrTelemetry(_ name: String) -> Bool {
        proxyVariables.contains(name.lowercased()) || telemetryVariables.contains(name)
            || telemetryPrefixes.contains { name.hasPrefix($0) }
    }

    /// **proxy-telemetry-env**: no proxy or telemetry variable is set in doctor's own environment
    /// (each found one is named; its value is never printed: it may carry credentials).
    public func proxyTelemetryEnvironment() -> DoctorCheck {
        let id = "proxy-telemetry-env"
        let title = "no proxy or telemetry variable would be honoured"
        let found = configuration.environment.keys.filter(Self.isProxyOrTelemetry).sorted()
        let looked =
            "looked for (any case) \(Self.proxyVariables.sorted().joined(separator: ", ")); \(Self.telemetryVariables.sorted().joined(separator: ", ")); \(Self.telemetryPrefixes.map { $0 + "*" }.joined(separator: ", "))"
        guard found.isEmpty else {
            return DoctorCheck(
                id: id, title: title, status: .fail,
                summary: "set: \(found.joined(separator: ", ")) (values not shown)",
                evidence: found.map { "\($0) is set" } + [looked],
                remedy:
                    "unset \(found.joined(separator: " ")) in the environment Airlock runs from (a service unit, a profile); tools never inherit it, but a helper started from here could honour it"
            )
        }
        return DoctorCheck(
            id: id, title: title, status: .pass,
            summary: "none set among \(configuration.environment.count) variables", evidence: [looked])
    }
}
