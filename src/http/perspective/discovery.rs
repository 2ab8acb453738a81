//! `GET /$discovery/rest?version=v1alpha1`: the Google API discovery document of the
//! Comment Analyzer, so Google's generated clients (`googleapiclient.discovery.build(...,
//! discoveryServiceUrl=<vigie>/$discovery/rest?version=v1alpha1, static_discovery=False)`)
//! work by changing only that URL. It describes the methods Vigie serves, with the request
//! and response schemas of Perspective's reference, and points `rootUrl` at this server as
//! the client reached it.

use axum::extract::Query;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::PerspectiveError;

#[derive(Debug, Deserialize)]
pub struct DiscoveryParams {
    #[serde(default)]
    version: Option<String>,
}

/// The discovery document for `version=v1alpha1` (the default); Google's error shape for any
/// other version.
#[utoipa::path(
    get,
    path = "/$discovery/rest",
    tag = "perspective",
    params(("version" = Option<String>, Query, description = "v1alpha1 (the default)")),
    responses(
        (status = 200, description = "Google API discovery document (discovery#restDescription) of the Comment Analyzer, rootUrl pointing at this server", body = RestDescription),
        (status = 404, description = "Another version: Perspective's error shape", body = super::PerspectiveErrorBody),
    )
)]
pub async fn document(Query(q): Query<DiscoveryParams>, headers: HeaderMap) -> Response {
    match q.version.as_deref() {
        None | Some("v1alpha1") => {
            axum::Json(rest_description(&root_url(&headers))).into_response()
        }
        Some(other) => PerspectiveError {
            status: StatusCode::NOT_FOUND,
            message: format!(
                "Discovery document not found for API service: commentanalyzer, version {other}"
            ),
            details: json!([]),
        }
        .into_response(),
    }
}

/// `scheme://host/` as the client addressed this server: the `Host` header, and HTTPS when a
/// proxy in front says so (`X-Forwarded-Proto`).
pub fn root_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("localhost");
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}/")
}

/// A Google API discovery document (`discovery#restDescription`), as far as this one fills it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestDescription {
    /// `discovery#restDescription`.
    pub kind: &'static str,
    pub discovery_version: &'static str,
    /// `commentanalyzer:v1alpha1`.
    pub id: &'static str,
    pub name: &'static str,
    pub version: &'static str,
    pub revision: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub protocol: &'static str,
    /// This server, as the client addressed it.
    pub root_url: String,
    pub service_path: &'static str,
    pub base_url: String,
    pub batch_path: &'static str,
    pub owner_domain: &'static str,
    pub owner_name: &'static str,
    /// Query parameters every method takes (`key`, `alt`, …).
    #[schema(value_type = Object)]
    pub parameters: Value,
    /// `comments.analyze` and `comments.suggestscore`: `POST v1alpha1/comments:…`.
    #[schema(value_type = Object)]
    pub resources: Value,
    /// The request and response messages, in discovery's JSON Schema dialect.
    #[schema(value_type = Object)]
    pub schemas: Value,
}

/// The document itself, with `root` as `rootUrl`.
pub fn rest_description(root: &str) -> RestDescription {
    RestDescription {
        kind: "discovery#restDescription",
        discovery_version: "v1",
        id: "commentanalyzer:v1alpha1",
        name: "commentanalyzer",
        version: "v1alpha1",
        revision: "vigie",
        title: "Perspective Comment Analyzer API (served by Vigie)",
        description: "Scores comments for toxicity and related attributes, in Perspective's request and response shapes.",
        protocol: "rest",
        root_url: root.to_owned(),
        service_path: "",
        base_url: root.to_owned(),
        batch_path: "batch",
        owner_domain: "google.com",
        owner_name: "Google",
        parameters: parameters(),
        resources: resources(),
        schemas: schemas(),
    }
}

/// Query parameters of every method.
fn parameters() -> Value {
    let key = json!({"type": "string", "location": "query", "description": "API key (also accepted in the X-Goog-Api-Key header)."});
    let query_string = |d: &str| json!({"type": "string", "location": "query", "description": d});
    json!({
        "key": key,
        "alt": {"type": "string", "location": "query", "default": "json", "enum": ["json"], "enumDescriptions": ["Responses with Content-Type of application/json"], "description": "Data format for response."},
        "fields": query_string("Selector specifying which fields to include in a partial response (ignored)."),
        "prettyPrint": {"type": "boolean", "location": "query", "default": "true", "description": "Returns response with indentations and line breaks (ignored)."},
        "quotaUser": query_string("Ignored."),
        "$.xgafv": {"type": "string", "location": "query", "enum": ["1", "2"], "enumDescriptions": ["v1 error format", "v2 error format"], "description": "V1 error format (ignored)."},
    })
}

/// The methods, `comments.analyze` and `comments.suggestscore`.
fn resources() -> Value {
    json!({
        "comments": {
            "methods": {
                "analyze": {
                    "id": "commentanalyzer.comments.analyze",
                    "path": "v1alpha1/comments:analyze",
                    "flatPath": "v1alpha1/comments:analyze",
                    "httpMethod": "POST",
                    "parameters": {},
                    "parameterOrder": [],
                    "request": {"$ref": "AnalyzeCommentRequest"},
                    "response": {"$ref": "AnalyzeCommentResponse"},
                    "description": "Analyzes the provided text and returns scores for requested attributes.",
                },
                "suggestscore": {
                    "id": "commentanalyzer.comments.suggestscore",
                    "path": "v1alpha1/comments:suggestscore",
                    "flatPath": "v1alpha1/comments:suggestscore",
                    "httpMethod": "POST",
                    "parameters": {},
                    "parameterOrder": [],
                    "request": {"$ref": "SuggestCommentScoreRequest"},
                    "response": {"$ref": "SuggestCommentScoreResponse"},
                    "description": "Suggest comment scores as training data: stored as labels of the model's heads.",
                },
            },
        },
    })
}

/// Perspective's request and response messages, as far as Vigie reads and writes them.
fn schemas() -> Value {
    let string = |d: &str| json!({"type": "string", "description": d});
    json!({
        "TextEntry": {"id": "TextEntry", "type": "object", "properties": {
            "text": string("UTF-8 encoded text."),
            "type": {"type": "string", "enum": ["TEXT_TYPE_UNSPECIFIED", "PLAIN_TEXT", "HTML"], "description": "Type of the text field."},
        }},
        "AttributeParameters": {"id": "AttributeParameters", "type": "object", "properties": {
            "scoreType": {"type": "string", "enum": ["SCORE_TYPE_UNSPECIFIED", "PROBABILITY"], "description": "What type of scores to return."},
            "scoreThreshold": {"type": "number", "format": "float", "description": "Don't return scores for this attribute that are below this threshold."},
        }},
        "AnalyzeCommentRequest": {"id": "AnalyzeCommentRequest", "type": "object", "properties": {
            "comment": {"$ref": "TextEntry"},
            "context": {"type": "object", "description": "Accepted and not used."},
            "requestedAttributes": {"type": "object", "additionalProperties": {"$ref": "AttributeParameters"}},
            "languages": {"type": "array", "items": {"type": "string"}},
            "doNotStore": {"type": "boolean", "description": "Vigie never stores what this method scores."},
            "clientToken": string("Echoed in the response."),
            "sessionId": string("Accepted and not used."),
            "spanAnnotations": {"type": "boolean", "description": "Return span scores, one per sentence."},
            "communityId": string("Accepted and not used."),
            "dropUnsupportedAttributes": {"type": "boolean"},
        }},
        "Score": {"id": "Score", "type": "object", "properties": {
            "value": {"type": "number", "format": "float"},
            "type": {"type": "string", "enum": ["PROBABILITY"]},
        }},
        "SpanScore": {"id": "SpanScore", "type": "object", "properties": {
            "begin": {"type": "integer", "format": "int32"},
            "end": {"type": "integer", "format": "int32"},
            "score": {"$ref": "Score"},
        }},
        "AttributeScores": {"id": "AttributeScores", "type": "object", "properties": {
            "summaryScore": {"$ref": "Score"},
            "spanScores": {"type": "array", "items": {"$ref": "SpanScore"}},
        }},
        "SuggestCommentScoreRequest": {"id": "SuggestCommentScoreRequest", "type": "object", "properties": {
            "comment": {"$ref": "TextEntry"},
            "context": {"type": "object", "description": "Accepted and not stored."},
            "attributeScores": {"type": "object", "additionalProperties": {"$ref": "AttributeScores"}, "description": "Attribute scores for the comment; each summaryScore value of 0.5 or more is the label 1, under it 0."},
            "languages": {"type": "array", "items": {"type": "string"}},
            "communityId": string("Stored with the labels."),
            "clientToken": string("Stored, and echoed in the response."),
            "sessionId": string("Accepted and not used."),
        }},
        "SuggestCommentScoreResponse": {"id": "SuggestCommentScoreResponse", "type": "object", "properties": {
            "detectedLanguages": {"type": "array", "items": {"type": "string"}},
            "requestedLanguages": {"type": "array", "items": {"type": "string"}},
            "clientToken": string("The request's clientToken."),
        }},
        "AnalyzeCommentResponse": {"id": "AnalyzeCommentResponse", "type": "object", "properties": {
            "attributeScores": {"type": "object", "additionalProperties": {"$ref": "AttributeScores"}},
            "languages": {"type": "array", "items": {"type": "string"}},
            "detectedLanguages": {"type": "array", "items": {"type": "string"}},
            "clientToken": string("The request's clientToken."),
        }},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_reference_resolves_and_the_root_is_the_callers() {
        let doc = serde_json::to_value(rest_description("http://127.0.0.1:8080/")).unwrap();
        assert_eq!(doc["rootUrl"], "http://127.0.0.1:8080/");
        let schemas = doc["schemas"].as_object().unwrap();
        let text = doc.to_string();
        for r in text.split("\"$ref\":\"").skip(1) {
            let name = &r[..r.find('"').unwrap()];
            assert!(schemas.contains_key(name), "unresolved $ref {name}");
        }
        let analyze = &doc["resources"]["comments"]["methods"]["analyze"];
        assert_eq!(analyze["path"], "v1alpha1/comments:analyze");
        let suggest = &doc["resources"]["comments"]["methods"]["suggestscore"];
        assert_eq!(suggest["path"], "v1alpha1/comments:suggestscore");
    }

    #[test]
    fn root_url_follows_host_and_forwarded_proto() {
        let mut h = HeaderMap::new();
        assert_eq!(root_url(&h), "http://localhost/");
        h.insert(header::HOST, "vigie.example.org".parse().unwrap());
        h.insert("x-forwarded-proto", "https".parse().unwrap());
        assert_eq!(root_url(&h), "https://vigie.example.org/");
    }
}
