//! The OpenAPI document served at `/openapi.json`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Vigie", description = "Self-hosted comment moderation: toxicity and stance scoring, review queue."),
    components(schemas(super::error::ErrorBody, super::error::ErrorDetail)),
    modifiers(&Bearer)
)]
struct ApiDoc;

/// API keys travel as `Authorization: Bearer <key>`.
struct Bearer;

impl Modify for Bearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document: the service's description, and the operations of the documented routes of
/// [`super::routes::ROUTES`].
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(super::routes::Documented::openapi());
    // The document describes itself too.
    if let Ok(path) = serde_json::from_value(serde_json::json!({
        "get": {"summary": "This OpenAPI document", "responses": {"200": {"description": "OpenAPI 3.1 JSON"}}}
    })) {
        doc.paths.paths.insert("/openapi.json".into(), path);
    }
    doc
}
