//! The moderator's page in a real browser: headless Chromium driven through WebDriver
//! (Debian's `chromium` and `chromium-driver`; `.ci/run` installs them). A moderator signs in,
//! sees a flagged comment with its highlighted words, presses `d`, gives a reason, and sees
//! it leave the queue and appear as rejected with its history; another overturns an appeal
//! from the Appeals tab and the author's page shows it; a reader's report shows on its card
//! in the Reported tab. Without chromedriver the test
//! says it was skipped, unless `VIGIE_REQUIRE_BROWSER` is set (as `.ci/run` does).

#[path = "common"]
mod common {
    pub mod app;
    pub mod files;
    pub mod model;
    pub mod tempdir;
}

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::app::{Setup, TestApp};
use common::tempdir::TempDir;
use fantoccini::{ClientBuilder, Locator};
use serde_json::json;
use vigie::domain::Role;
use vigie::policy::Policy;
use vigie::store::SqliteStore;

const MODERATOR: &str = "vg_browser_moderator";
const HOLD_ALL: &str = "[heads.toxicity]\nreject = 1.0\n[heads.insult]\nreject = 1.0\n[heads.threat]\nreject = 1.0\n[heads.identity_attack]\nreject = 1.0\n[heads.profanity]\nreject = 1.0\n";

/// chromedriver, its profile directory and its port.
struct Driver(Child, std::path::PathBuf, u16);
impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_driver() -> Option<Driver> {
    let path =
        std::env::var("VIGIE_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    if !std::path::Path::new(&path).exists() {
        assert!(
            std::env::var_os("VIGIE_REQUIRE_BROWSER").is_none(),
            "VIGIE_REQUIRE_BROWSER is set but {path} does not exist"
        );
        eprintln!(
            "SKIPPED (browser): {path} not found; install Debian's chromium and chromium-driver"
        );
        return None;
    }
    let port = free_port();
    let profile = std::env::temp_dir().join(format!("vigie-chrome-{}-{port}", std::process::id()));
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let driver = Driver(child, profile, port);
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(driver);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

/// The service on a SQLite file in a directory that goes with it.
async fn service(name: &str) -> (TestApp, TempDir) {
    let dir = TempDir::new(&format!("browser-{name}"));
    let store = SqliteStore::open(&dir.path().join("vigie.db"))
        .await
        .unwrap();
    let app = Setup {
        policy: Policy::from_toml(HOLD_ALL).unwrap(),
        keys: vec![
            ("ana", MODERATOR, Role::Moderator),
            ("site", "vg_browser_site", Role::Scorer),
        ],
        store: Some(Arc::new(store)),
        ..Setup::default()
    }
    .spawn()
    .await;
    (app, dir)
}

async fn submit(base: &str, id: &str, text: &str, author: &str) {
    let r = reqwest::Client::new()
        .post(format!("{base}/v1/comments"))
        .bearer_auth("vg_browser_site")
        .json(&json!({"id": id, "text": text, "article_id": "pegasus", "author": author}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

/// A headless Chromium session through `driver`.
async fn browser(driver: &Driver) -> fantoccini::Client {
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": std::env::var("VIGIE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1200,1400", format!("--user-data-dir={}", driver.1.display())]
        }
    });
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps.as_object().unwrap().clone())
        .connect(&format!("http://127.0.0.1:{}", driver.2))
        .await
        .expect("a Chromium session")
}

/// Signs in with the moderator key, through the form, and waits for the queue.
async fn sign_in(c: &fantoccini::Client, base: &str) {
    // Sign in: the key goes in a form, never in the URL.
    c.goto(&format!("{base}/moderation")).await.unwrap();
    c.find(Locator::Css("input[name=key]"))
        .await
        .unwrap()
        .send_keys(MODERATOR)
        .await
        .unwrap();
    c.find(Locator::Css("form.login button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    if c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("ol.cards"))
        .await
        .is_err()
    {
        panic!(
            "not signed in: at {} with {}",
            c.current_url().await.unwrap(),
            c.source().await.unwrap()
        );
    }
}

/// A moderator signed in in Chromium, on a service holding some comments.
struct Page {
    c: fantoccini::Client,
    app: TestApp,
    base: String,
    dir: TempDir,
    driver: Driver,
}

impl Page {
    /// The service with `comments` (id, text, author) under article `pegasus`, and a
    /// moderator signed in; `None` when the browser is skipped.
    async fn open(name: &str, comments: &[(&str, &str, &str)]) -> Option<Page> {
        let driver = start_driver().await?;
        let (app, dir) = service(name).await;
        let base = app.address.clone();
        for (id, text, author) in comments {
            submit(&base, id, text, author).await;
        }
        let c = browser(&driver).await;
        sign_in(&c, &base).await;
        Some(Page {
            c,
            app,
            base,
            dir,
            driver,
        })
    }

    /// The text of the page's notice, once it shows.
    async fn notice(&self) -> String {
        let notice = Locator::Css("p.notice");
        self.c.wait().for_element(notice).await.unwrap();
        self.c.find(notice).await.unwrap().text().await.unwrap()
    }

    async fn click(&self, css: &str) {
        let c = &self.c;
        c.find(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    /// `GET path` of the API with the moderator's key.
    async fn api(&self, path: &str) -> serde_json::Value {
        let r = reqwest::Client::new()
            .get(format!("{}{path}", self.base))
            .bearer_auth(MODERATOR)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    async fn close(self) {
        self.c.close().await.unwrap();
        drop(self.app);
        drop(self.driver);
        drop(self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moderator_rejects_a_comment_with_the_keyboard() {
    let comments = [
        ("c-bras", "Quelle bande de bras cassés, ce gouvernement", "jarod"),
        ("c-guignols", "Ministres guignols, dégagez tous !", "lea"),
        ("c-xss", "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\"> bande de connards", "mallory"),
    ];
    let Some(page) = Page::open("keyboard", &comments).await else {
        return;
    };
    let (c, base, state) = (&page.c, page.base.clone(), page.app.state.clone());
    let url = c.current_url().await.unwrap();
    assert_eq!(url.path(), "/moderation/queue");
    assert!(!url.as_str().contains(MODERATOR));
    let cookie = c.execute("return document.cookie", vec![]).await.unwrap();
    assert_eq!(cookie, json!(""), "the session cookie is HTTP-only");

    // Nothing the readers wrote ran.
    assert_eq!(
        c.execute("return window.__pwned === undefined", vec![])
            .await
            .unwrap(),
        json!(true)
    );
    let xss_text = c
        .find(Locator::Css("#c-c-xss .text"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        xss_text.contains("<script>window.__pwned=1</script>"),
        "{xss_text}"
    );

    // The flagged comment shows its highlighted words and score bars.
    let card = c.find(Locator::Css("#c-c-bras")).await.unwrap();
    let marks = card.find_all(Locator::Css("mark")).await.unwrap();
    let mut marked = Vec::new();
    for m in &marks {
        marked.push(m.text().await.unwrap());
    }
    assert!(marked.iter().any(|m| m == "bande"), "{marked:?}");
    assert!(!card
        .find_all(Locator::Css("meter"))
        .await
        .unwrap()
        .is_empty());

    // Screenshot of the queue for the README.
    let png = c.screenshot().await.unwrap();
    std::fs::create_dir_all(common::files::path("target")).unwrap();
    std::fs::write(common::files::path("target/vigie-queue.png"), &png).unwrap();
    if std::env::var_os("VIGIE_UPDATE_SCREENSHOT").is_some() {
        std::fs::write(common::files::path("docs/queue.png"), &png).unwrap();
    }

    // Keyboard: `?` shows the help, `j`/`k` move between cards.
    let body = c.find(Locator::Css("body")).await.unwrap();
    body.send_keys("?").await.unwrap();
    assert!(c
        .find(Locator::Css("#help"))
        .await
        .unwrap()
        .is_displayed()
        .await
        .unwrap());
    body.send_keys("?").await.unwrap();
    let focused = || async {
        c.execute(
            "return document.querySelector('.card.focused').dataset.id",
            vec![],
        )
        .await
        .unwrap()
    };
    let first = focused().await;
    body.send_keys("j").await.unwrap();
    let second = focused().await;
    assert_ne!(first, second);
    body.send_keys("k").await.unwrap();
    assert_eq!(focused().await, first);
    // Move to c-bras, press `d`, type a reason, Enter.
    for _ in 0..3 {
        if focused().await == json!("c-bras") {
            break;
        }
        body.send_keys("j").await.unwrap();
    }
    assert_eq!(focused().await, json!("c-bras"));
    body.send_keys("d").await.unwrap();
    let active = c
        .execute("return document.activeElement.name", vec![])
        .await
        .unwrap();
    assert_eq!(active, json!("reason"));
    c.active_element()
        .await
        .unwrap()
        .send_keys("insulte envers le gouvernement\u{E007}")
        .await
        .unwrap();

    // It leaves the pending queue…
    assert_eq!(page.notice().await, "c-bras rejected");
    assert!(c
        .find_all(Locator::Css("#c-c-bras"))
        .await
        .unwrap()
        .is_empty());
    // …and appears as rejected, with its history.
    c.find(Locator::Css("a.tab[href$='status=rejected']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("#c-c-bras"))
        .await
        .unwrap();
    c.find(Locator::Css("#c-c-bras a.detail"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("table.history"))
        .await
        .unwrap();
    let history = c
        .find(Locator::Css("table.history"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        history.contains("submitted")
            && history.contains("reject")
            && history.contains("insulte envers le gouvernement"),
        "{history}"
    );
    assert!(history.contains("ana"));
    assert_eq!(
        state
            .store()
            .get("c-bras")
            .await
            .unwrap()
            .unwrap()
            .0
            .status
            .as_str(),
        "rejected"
    );

    // `f` approves the focused comment, without a reason.
    c.goto(&format!("{base}/moderation/queue")).await.unwrap();
    let target = c
        .execute(
            "return document.querySelector('.card.focused').dataset.id",
            vec![],
        )
        .await
        .unwrap();
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("f")
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .unwrap();
    let id = target.as_str().unwrap().to_owned();
    assert_eq!(
        state
            .store()
            .get(&id)
            .await
            .unwrap()
            .unwrap()
            .0
            .status
            .as_str(),
        "approved"
    );

    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moderator_labels_a_comment_from_the_teach_tab() {
    let comments = [
        ("t-nuls", "Bande de nuls, vous êtes des clowns", "jarod"),
        ("t-peau", "Je vais te faire la peau, sale type", "lea"),
    ];
    let Some(page) = Page::open("teach", &comments).await else {
        return;
    };
    let c = &page.c;
    page.click("a.tab.teach").await;
    c.wait()
        .for_element(Locator::Css("a.tab.teach.current"))
        .await
        .unwrap();
    assert!(c
        .current_url()
        .await
        .unwrap()
        .as_str()
        .contains("order=informative"));
    let card = c.find(Locator::Css("li.card.focused")).await.unwrap();
    let id = card.attr("data-id").await.unwrap().unwrap();

    // One click toggles a label; `4` toggles the card's fourth (the model's heads in order,
    // toxicity left to the verdict: identity_attack, insult, profanity, threat); `d`, a
    // reason and Enter reject it with both.
    card.find(Locator::Css("input[name=label][value=insult]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let active = || async {
        c.execute("return document.activeElement.value", vec![])
            .await
            .unwrap()
    };
    assert_eq!(active().await, json!("insult"));
    c.active_element()
        .await
        .unwrap()
        .send_keys("4d")
        .await
        .unwrap();
    assert_eq!(
        c.execute("return document.activeElement.name", vec![])
            .await
            .unwrap(),
        json!("reason")
    );
    c.active_element()
        .await
        .unwrap()
        .send_keys("insulte et menace\u{E007}")
        .await
        .unwrap();
    assert_eq!(page.notice().await, format!("{id} rejected"));
    // Back on the Teach tab, which no longer lists it.
    assert!(c
        .current_url()
        .await
        .unwrap()
        .as_str()
        .contains("order=informative"));

    // The labels, as the API gives them back.
    let detail = page.api(&format!("/v1/comments/{id}")).await;
    let last = detail["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (&last["action"], &last["actor"], &last["reason"]),
        (&json!("reject"), &json!("ana"), &json!("insulte et menace"))
    );
    assert_eq!(last["labels"], json!({"insult": 1, "threat": 1}));

    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_creates_a_target_and_attaches_an_article_from_the_targets_tab() {
    let Some(page) = Page::open("targets", &[]).await else {
        return;
    };
    let c = &page.c;
    page.click("a.tab.targets").await;
    c.wait()
        .for_element(Locator::Css("form.target-create"))
        .await
        .unwrap();
    let field = |name: &'static str| async move {
        c.find(Locator::Css(&format!(
            "form.target-create input[name={name}]"
        )))
        .await
        .unwrap()
    };
    field("name")
        .await
        .send_keys("vaccin-obligatoire")
        .await
        .unwrap();
    field("description")
        .await
        .send_keys("L'obligation vaccinale des soignants")
        .await
        .unwrap();
    page.click("form.target-create button").await;
    assert!(page.notice().await.contains("vaccin-obligatoire"));
    let row = c.find(Locator::Css("#t-vaccin-obligatoire")).await.unwrap();
    assert!(row.text().await.unwrap().contains("not yet learned"));

    row.find(Locator::Css("input[name=articles]"))
        .await
        .unwrap()
        .send_keys("pegasus")
        .await
        .unwrap();
    row.find(Locator::Css("button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css(
            "#t-vaccin-obligatoire a[href*='article=pegasus']",
        ))
        .await
        .unwrap();
    assert_eq!(
        page.notice().await,
        "1 article(s) attached to vaccin-obligatoire"
    );
    let listed = page.api("/v1/targets").await;
    let target = &listed["targets"][0];
    assert_eq!(target["name"], "vaccin-obligatoire", "{listed}");
    assert_eq!(target["articles"], json!(["pegasus"]), "{listed}");

    // A comment under the article now carries the target, not yet learned, on its card.
    submit(
        &page.base,
        "v-1",
        "Les soignants doivent se faire vacciner",
        "lea",
    )
    .await;
    c.goto(&format!("{}/moderation/queue", page.base))
        .await
        .unwrap();
    let card = c.find(Locator::Css("#c-v-1")).await.unwrap();
    let text = card.text().await.unwrap();
    assert!(text.contains("stance: not yet learned"), "{text}");
    assert!(text.contains("stance toward vaccin-obligatoire"), "{text}");
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moderator_decides_an_appeal_in_its_tab() {
    let Some(page) = Page::open("appeals", &[]).await else {
        return;
    };
    let (c, base) = (&page.c, page.base.clone());
    // A comment withheld by the thresholds, and its author's appeal.
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{base}/v1/comments"))
        .bearer_auth("vg_browser_site")
        .json(&json!({"id": "a-1", "text": "Bande de nuls, ce ministère", "lang": "fr"}))
        .send()
        .await
        .unwrap();
    let token = r.json::<serde_json::Value>().await.unwrap()["statement_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = http
        .post(format!("{base}/v1/comments/a-1/appeal?token={token}"))
        .json(&json!({"text": "Une critique, pas une insulte."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    // The Appeals tab, from the queue's tabs, with its count.
    c.goto(&format!("{base}/moderation/queue")).await.unwrap();
    let tab = c.find(Locator::Css("a.tab.appeals")).await.unwrap();
    assert_eq!(tab.text().await.unwrap(), "appeals 1");
    page.click("a.tab.appeals").await;
    c.wait()
        .for_element(Locator::Css("li.appeal"))
        .await
        .unwrap();
    let card = c.find(Locator::Css("li.appeal")).await.unwrap();
    let text = card.text().await.unwrap();
    assert!(text.contains("Une critique, pas une insulte."), "{text}");
    assert!(text.contains("automated decision"), "{text}");
    card.find(Locator::Css("input[name=reason]"))
        .await
        .unwrap()
        .send_keys("Critique du ministère, admise.")
        .await
        .unwrap();
    page.click("li.appeal button[value=overturned]").await;
    let notice = page.notice().await;
    assert!(notice.contains("overturned: a-1 is approved"), "{notice}");
    let all = page.api("/v1/appeals?status=all").await;
    assert_eq!(
        all["items"][0]["decision"]["outcome"], "overturned",
        "{all}"
    );

    // The author's page shows the outcome, and no moderator.
    c.goto(&format!("{base}/statements/a-1?token={token}&lang=en"))
        .await
        .unwrap();
    let state = c
        .find(Locator::Css("#appeal-state"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(state.starts_with("accepted"), "{state}");
    let source = c.source().await.unwrap();
    assert!(source.contains("Critique du ministère, admise."));
    assert!(
        !source.contains("ana"),
        "no moderator's name on the author's page"
    );
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reported_comment_shows_its_report_in_the_reported_tab() {
    let Some(page) = Page::open("reports", &[("r-1", "Article sans intérêt", "noe")]).await
    else {
        return;
    };
    let (c, base) = (&page.c, page.base.clone());
    let r = reqwest::Client::new()
        .post(format!("{base}/v1/comments/r-1/reports"))
        .json(&json!({"reason": "incivility", "text": "Méprisant envers les lecteurs."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let status_url = r.json::<serde_json::Value>().await.unwrap()["status_url"]
        .as_str()
        .unwrap()
        .to_owned();

    c.goto(&format!("{base}/moderation/queue")).await.unwrap();
    let tab = c.find(Locator::Css("a.tab.reported")).await.unwrap();
    assert!(tab.text().await.unwrap().contains('1'));
    page.click("a.tab.reported").await;
    c.wait()
        .for_element(Locator::Css("#c-r-1 ul.reports"))
        .await
        .unwrap();
    let reports = c
        .find(Locator::Css("#c-r-1 ul.reports"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(reports.contains("reported: incivility"), "{reports}");
    assert!(
        reports.contains("Méprisant envers les lecteurs."),
        "{reports}"
    );

    page.click("#c-r-1 button.approve").await;
    assert!(page.notice().await.contains("r-1 approved"));
    let told: serde_json::Value = reqwest::get(format!("{base}{status_url}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(told["status"], "no_action", "{told}");
    page.close().await;
}
