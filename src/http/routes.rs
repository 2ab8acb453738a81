//! Every route of the service, in one table: method, path, who may call it and the handler.
//! [`super::app`] builds the router from it (each route behind the guard its [`Access`]
//! names), the route-walking tests read it, and the OpenAPI document lists the handlers of
//! its `documented` part. Adding a route is adding a line here.

use axum::http::Method;
use axum::routing::{on, MethodFilter, MethodRouter};

use super::auth::Access;
use super::{
    admin, appeals, comments, coral, meta, metrics, models, perspective, queue, reports, score,
    statements, targets, transparency, AppState,
};
use crate::domain::Role;
use crate::ui;

/// One route.
pub struct Route {
    pub method: Method,
    /// As axum writes it, `{name}` for a path parameter.
    pub path: &'static str,
    pub access: Access,
    /// The handler, routed under `method`.
    pub handler: fn() -> MethodRouter<AppState>,
}

/// `documented` routes are in the OpenAPI document (their handlers carry
/// `#[utoipa::path]`); `undocumented` ones are the document itself and the moderator's page.
macro_rules! routes {
    (
        documented { $($m:ident $p:literal, $a:expr => $($h:ident)::+;)* }
        undocumented { $($m2:ident $p2:literal, $a2:expr => $($h2:ident)::+;)* }
    ) => {
        /// Every route of the service.
        pub static ROUTES: &[Route] = &[
            $(Route {
                method: Method::$m,
                path: $p,
                access: $a,
                handler: || on(MethodFilter::$m, $($h)::+),
            },)*
            $(Route {
                method: Method::$m2,
                path: $p2,
                access: $a2,
                handler: || on(MethodFilter::$m2, $($h2)::+),
            },)*
        ];

        /// The operations of the documented routes.
        #[derive(utoipa::OpenApi)]
        #[openapi(paths($($($h)::+),*))]
        pub(super) struct Documented;
    };
}

use Access::{
    CoralSignature, ModeratorOrToken, Page, Perspective, PerspectiveKey, Public, Scoring, Session,
};
const SCORER: Access = Access::Role(Role::Scorer);
const MODERATOR: Access = Access::Role(Role::Moderator);
const ADMIN: Access = Access::Role(Role::Admin);

routes! {
    documented {
        GET "/healthz", Public => meta::healthz;
        GET "/readyz", Public => meta::readyz;
        GET "/v1/model", Public => meta::model_card;
        GET "/metrics", ADMIN => metrics::scrape;
        POST "/v1/score", Scoring => score::score;
        POST "/v1/score/batch", Scoring => score::score_batch;
        POST "/v1alpha1/comments:analyze", Perspective => perspective::analyze;
        POST "/v1alpha1/comments:suggestscore", PerspectiveKey => perspective::suggest::suggest_score;
        GET "/$discovery/rest", Public => perspective::discovery::document;
        POST "/v1/integrations/coral", CoralSignature => coral::moderate;
        POST "/v1/comments", SCORER => comments::submit;
        GET "/v1/comments/{id}", MODERATOR => comments::get_comment;
        POST "/v1/comments/{id}/decision", MODERATOR => comments::decide;
        GET "/v1/comments/{id}/statement", ModeratorOrToken => statements::get_statement;
        GET "/v1/dsa/statements", ADMIN => statements::export_statements;
        POST "/v1/comments/{id}/appeal", Public => appeals::file_appeal;
        GET "/v1/appeals", MODERATOR => appeals::list_appeals;
        POST "/v1/appeals/{id}/decision", MODERATOR => appeals::decide_appeal;
        POST "/v1/comments/{id}/reports", Public => reports::file_report;
        GET "/v1/reports/{id}", Public => reports::get_report;
        GET "/v1/transparency", Public => transparency::transparency_report;
        GET "/v1/authors/{author}", MODERATOR => comments::author;
        GET "/v1/queue", MODERATOR => queue::list;
        POST "/v1/queue/claim", MODERATOR => queue::claim;
        POST "/v1/comments/{id}/release", MODERATOR => queue::release;
        POST "/v1/targets", MODERATOR => targets::create_target;
        GET "/v1/targets", MODERATOR => targets::list_targets;
        POST "/v1/targets/{name}/articles", MODERATOR => targets::attach_articles;
        GET "/v1/labels/export", ADMIN => admin::export;
        POST "/v1/admin/model/reload", ADMIN => admin::reload;
        POST "/v1/admin/model/retrain", ADMIN => models::start_retrain;
        GET "/v1/admin/model/retrain", ADMIN => models::retrain_status;
        GET "/v1/admin/models", ADMIN => models::list;
        POST "/v1/admin/models/{id}/activate", ADMIN => models::activate;
        GET "/v1/admin/keys", ADMIN => admin::list_keys;
        POST "/v1/admin/keys", ADMIN => admin::create_key;
        DELETE "/v1/admin/keys/{name}", ADMIN => admin::revoke_key;
    }
    undocumented {
        GET "/openapi.json", Public => meta::openapi_json;
        GET "/moderation", Page => ui::login_page;
        POST "/moderation/login", Page => ui::login;
        POST "/moderation/logout", Session => ui::logout;
        GET "/moderation/queue", Session => ui::queue_page;
        POST "/moderation/bulk", Session => ui::bulk;
        GET "/moderation/comments/{id}", Session => ui::detail_page;
        GET "/statements/{id}", Page => ui::statement_page;
        POST "/statements/{id}/appeal", Page => ui::appeal_form;
        GET "/moderation/appeals", Session => ui::appeals_page;
        GET "/transparency", Page => ui::transparency_page;
        POST "/moderation/appeals/{id}/decision", Session => ui::decide_appeal;
        GET "/moderation/targets", Session => ui::targets_page;
        POST "/moderation/targets", Session => ui::create_target;
        POST "/moderation/targets/{name}/articles", Session => ui::attach_articles;
        POST "/moderation/comments/{id}/decision", Session => ui::decide;
        GET "/moderation/assets/app.js", Page => ui::script;
        GET "/moderation/assets/app.css", Page => ui::stylesheet;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use utoipa::OpenApi;

    use super::*;

    /// The paths a handler's `#[utoipa::path]` states are those of its line in the table.
    #[test]
    fn the_document_describes_exactly_the_documented_routes() {
        let doc = Documented::openapi();
        let mut described = BTreeSet::new();
        for (path, item) in &doc.paths.paths {
            let json = serde_json::to_value(item).unwrap();
            for method in json.as_object().unwrap().keys() {
                described.insert((method.to_uppercase(), path.clone()));
            }
        }
        let documented: BTreeSet<(String, String)> = ROUTES
            .iter()
            .filter(|r| !matches!(r.access, Page | Session) && r.path != "/openapi.json")
            .map(|r| (r.method.to_string(), r.path.to_owned()))
            .collect();
        assert_eq!(described, documented);
    }

    /// Clients name their methods after operation ids (utoipa's default: the handler's
    /// name, which two modules may share).
    #[test]
    fn operation_ids_are_unique() {
        let doc = serde_json::to_value(Documented::openapi()).unwrap();
        let mut seen = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap_or_default().to_owned();
                assert!(seen.insert(id.clone()), "{method} {path}: {id:?} again");
            }
        }
    }

    #[test]
    fn no_route_is_listed_twice() {
        let mut seen = BTreeSet::new();
        for r in ROUTES {
            assert!(
                seen.insert((r.method.as_str(), r.path)),
                "{} {}",
                r.method,
                r.path
            );
        }
        assert_eq!(seen.len(), 55);
    }
}
