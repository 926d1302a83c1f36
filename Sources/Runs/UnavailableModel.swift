import Model

/// The model of a run whose model could not be had when the run was assembled (the embedded
/// model not installed, its files not the pinned ones, its server not ready; an endpoint the
/// air-gap rule refuses): the run still starts and is recorded, and its first request fails with
/// the reason, so the trace holds every run an analyst started with a valid workflow.
struct UnavailableModel: ChatModel {
    let name: String
    let kind: String
    let error: ModelError

    func complete(_ request: ChatRequest) async throws(ModelError) -> ChatResponse {
        throw error
    }
}
