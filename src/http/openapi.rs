//! The OpenAPI document served at `/openapi.json`.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Vigie",
        description = "Self-hosted comment moderation: toxicity and stance scoring."
    ),
    paths(
        super::score::score,
        super::score::score_batch,
        super::meta::healthz,
        super::meta::model_card
    ),
    components(schemas(super::error::ErrorBody, super::error::ErrorDetail))
)]
struct ApiDoc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
