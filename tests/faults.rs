//! Faults, on the real `serve` binary run as a child process on a loopback port with its own
//! data directory: SIGKILL in the middle of a burst of submissions and decisions (SQLite),
//! SIGTERM with a request in flight, and PostgreSQL stopped and started again under a running
//! server (a private cluster made for the test). Reloads of damaged model files are in
//! process, in `tests/api/reload.rs`.

#![cfg(unix)]

#[path = "common"]
mod common {
    pub mod errors;
    pub mod files;
    pub mod postgres;
    pub mod prom;
    pub mod serve;
    pub mod tempdir;
    pub mod texts;
}

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::tempdir::TempDir;
use serde_json::{json, Value};

use common::serve::{create_key, Server};

/// The tests that run processes take turns: they measure how quickly things happen, and a
/// burst on the 2 cores would slow the others down.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// One request; the status and the body as JSON (`Null` when empty, a string when not JSON).
async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    key: Option<&str>,
    body: Option<&Value>,
) -> reqwest::Result<(u16, Value)> {
    let mut rb = client.request(method, url);
    if let Some(k) = key {
        rb = rb.bearer_auth(k);
    }
    if let Some(b) = body {
        rb = rb.json(b);
    }
    let r = rb.send().await?;
    let status = r.status().as_u16();
    let bytes = r.bytes().await?;
    let v = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Ok((status, v))
}

async fn get(client: &reqwest::Client, url: &str, key: Option<&str>) -> (u16, Value) {
    send(client, reqwest::Method::GET, url, key, None)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    key: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    send(client, reqwest::Method::POST, url, key, Some(body))
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"))
}

/// What the fault tests do to a running `serve` besides starting it.
impl Server {
    /// The address of its "metrics listening metrics_addr=…" line (`--metrics-addr`).
    pub fn metrics_addr(&self) -> SocketAddr {
        let end = Instant::now() + Duration::from_secs(30);
        loop {
            let log = self.log.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let found = log
                .iter()
                .filter(|l| l.contains("metrics listening"))
                .flat_map(|l| l.split_whitespace())
                .find_map(|w| w.strip_prefix("metrics_addr=")?.parse().ok());
            if let Some(a) = found {
                return a;
            }
            assert!(
                Instant::now() < end,
                "no \"metrics listening\" line: {log:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `kill -SIG pid`.
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([format!("-{sig}"), self.child.id().to_string()])
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -{sig} failed");
    }

    /// SIGKILL, and the status it died with.
    pub fn kill9(&mut self) -> ExitStatus {
        self.child.kill().expect("SIGKILL serve");
        self.child.wait().unwrap()
    }

    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().unwrap()
    }

    /// Polls for the exit, up to `within`.
    pub fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let end = Instant::now() + within;
        loop {
            if let Some(s) = self.exited() {
                return Some(s);
            }
            if Instant::now() >= end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

// ---------------------------------------------------------------------------------------
// 1. SIGKILL in the middle of a burst (SQLite)

struct Submitted {
    id: String,
    text: String,
    status: String,
}

struct Decided {
    id: String,
    moderator: String,
    action: &'static str,
    reason: String,
    version: i64,
}

/// What one client task of the burst saw.
#[derive(Default)]
struct Burst {
    /// Every submission sent, acknowledged or not: id → text.
    sent: HashMap<String, String>,
    submitted: Vec<Submitted>,
    /// Acknowledged claims: id, moderator.
    claimed: Vec<(String, String)>,
    decided: Vec<Decided>,
    /// Submissions sent that got no answer (in flight when the process died).
    unanswered: Vec<String>,
    /// 503 answers (the database was busy past its timeouts).
    unavailable: usize,
    /// Anything else: a failure of the test.
    unexpected: Vec<String>,
}

impl Burst {
    fn merge(&mut self, o: Burst) {
        self.sent.extend(o.sent);
        self.submitted.extend(o.submitted);
        self.claimed.extend(o.claimed);
        self.decided.extend(o.decided);
        self.unanswered.extend(o.unanswered);
        self.unavailable += o.unavailable;
        self.unexpected.extend(o.unexpected);
    }
}

#[derive(Default)]
struct Progress {
    submitted: AtomicUsize,
    decided: AtomicUsize,
    killed: AtomicBool,
}

async fn submitter(base: String, key: String, w: usize, p: Arc<Progress>) -> Burst {
    let client = client();
    let mut b = Burst::default();
    let url = format!("{base}/v1/comments");
    for n in 0.. {
        if p.killed.load(Ordering::SeqCst) {
            break;
        }
        let id = format!("crash-{w}-{n}");
        let text = format!(
            "{} «{id}»",
            common::texts::TEXTS[(w * 3 + n) % common::texts::TEXTS.len()]
        );
        b.sent.insert(id.clone(), text.clone());
        let body = json!({"id": id, "text": text, "author": format!("author-{w}"), "article_id": "art-crash"});
        match send(
            &client,
            reqwest::Method::POST,
            &url,
            Some(&key),
            Some(&body),
        )
        .await
        {
            Ok((200 | 201, v)) if v["id"] == id.as_str() && v["text"] == text.as_str() => {
                b.submitted.push(Submitted {
                    id,
                    text,
                    status: v["status"].as_str().unwrap_or_default().to_owned(),
                });
                p.submitted.fetch_add(1, Ordering::SeqCst);
            }
            Ok((503, _)) => b.unavailable += 1,
            Ok((s, v)) => b
                .unexpected
                .push(format!("POST /v1/comments {id}: {s} {v}")),
            // Refused: never sent (the process is gone). Otherwise sent, and cut off.
            Err(e) if e.is_connect() => {
                b.sent.remove(&id);
            }
            Err(_) => b.unanswered.push(id),
        }
    }
    b
}

async fn moderator(base: String, name: String, key: String, p: Arc<Progress>) -> Burst {
    let client = client();
    let mut b = Burst::default();
    let claim_url = format!("{base}/v1/queue/claim");
    let mut n = 0usize;
    while !p.killed.load(Ordering::SeqCst) {
        let c = match send(&client, reqwest::Method::POST, &claim_url, Some(&key), None).await {
            Ok((200, c)) => c,
            Ok((204, _)) => {
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
            Ok((503, _)) => {
                b.unavailable += 1;
                continue;
            }
            Ok((s, v)) => {
                b.unexpected.push(format!("claim: {s} {v}"));
                continue;
            }
            Err(_) => continue,
        };
        let id = c["id"].as_str().unwrap_or_default().to_owned();
        b.claimed.push((id.clone(), name.clone()));
        n += 1;
        let action = if n % 2 == 0 { "approve" } else { "reject" };
        let expected = if action == "approve" {
            "approved"
        } else {
            "rejected"
        };
        let reason = format!("{action} by {name}, decision {n}");
        let body = json!({"action": action, "reason": reason, "version": c["version"]});
        let url = format!("{base}/v1/comments/{id}/decision");
        match send(
            &client,
            reqwest::Method::POST,
            &url,
            Some(&key),
            Some(&body),
        )
        .await
        {
            Ok((200, v)) if v["status"] == expected && v["id"] == id.as_str() => {
                b.decided.push(Decided {
                    id,
                    moderator: name.clone(),
                    action,
                    reason,
                    version: v["version"].as_i64().unwrap_or_default(),
                });
                p.decided.fetch_add(1, Ordering::SeqCst);
            }
            Ok((503, _)) => b.unavailable += 1,
            Ok((s, v)) => b.unexpected.push(format!("decision on {id}: {s} {v}")),
            Err(_) => {}
        }
    }
    b
}

/// Every comment of one status, through the paged queue (`head`: through the per-head score
/// rows, which the queue joins when it filters on a head).
async fn list_status(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    status: &str,
    head: Option<&str>,
) -> (Vec<Value>, BTreeMap<String, i64>) {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/v1/queue?status={status}&order=oldest&limit=200");
        if let Some(h) = head {
            url += &format!("&head={h}&min_score=0");
        }
        if let Some(c) = &cursor {
            url += &format!("&cursor={c}");
        }
        let (s, page) = get(client, &url, Some(key)).await;
        assert_eq!(s, 200, "{url}: {page}");
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => {
                return (
                    items,
                    serde_json::from_value(page["counts"].clone()).unwrap(),
                )
            }
        }
    }
}

/// A stored comment and its history are one the API can produce: one `submitted` event
/// first, into the status the model's decision gives; then claims (pending → pending, same
/// version) and decisions (each bumping the version); ending in the comment's status and
/// version.
fn check_consistent(c: &Value, history: &[Value]) -> Result<(), String> {
    let initial = match c["decision"].as_str() {
        Some("allow") => "published",
        Some("flag") => "pending",
        Some("reject") => "rejected",
        other => return Err(format!("decision {other:?}")),
    };
    let first = history.first().ok_or("no history")?;
    if first["action"] != "submitted"
        || first["to_status"] != initial
        || !first["from_status"].is_null()
        || first["version"] != 1
    {
        return Err(format!("first event {first}"));
    }
    let (mut status, mut version) = (initial.to_owned(), 1i64);
    for e in &history[1..] {
        let v = e["version"].as_i64().ok_or("event without version")?;
        match e["action"].as_str() {
            Some("claimed") => {
                if status != "pending"
                    || e["from_status"] != "pending"
                    || e["to_status"] != "pending"
                    || v != version
                {
                    return Err(format!("claim {e} at {status} v{version}"));
                }
            }
            Some(a @ ("approve" | "reject")) => {
                let to = if a == "approve" {
                    "approved"
                } else {
                    "rejected"
                };
                if e["from_status"] != status.as_str() || e["to_status"] != to || v != version + 1 {
                    return Err(format!("decision {e} at {status} v{version}"));
                }
                status = to.to_owned();
                version = v;
            }
            _ => return Err(format!("unknown event {e}")),
        }
    }
    if c["status"] != status.as_str() || c["version"] != version {
        return Err(format!(
            "comment at {} v{} but its history ends at {status} v{version}",
            c["status"], c["version"]
        ));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_burst_loses_no_acknowledged_write() {
    let _serial = SERIAL.lock().await;
    let dir = TempDir::new("faults-sigkill");
    let db = ["--data-dir", dir.path().to_str().unwrap()];
    let scorer = create_key(&db, "site", "scorer");
    let mods: Vec<(String, String)> = (0..4)
        .map(|i| {
            let name = format!("mod-{i}");
            let key = create_key(&db, &name, "moderator");
            (name, key)
        })
        .collect();
    let mut server = Server::start(&db);
    let base = server.base();

    // 12 submitters and 4 moderators hammer the server until it is killed.
    let p = Arc::new(Progress::default());
    let mut tasks = Vec::new();
    for w in 0..12 {
        tasks.push(tokio::spawn(submitter(
            base.clone(),
            scorer.clone(),
            w,
            p.clone(),
        )));
    }
    for (name, key) in &mods {
        tasks.push(tokio::spawn(moderator(
            base.clone(),
            name.clone(),
            key.clone(),
            p.clone(),
        )));
    }
    let start = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let (s, d) = (
            p.submitted.load(Ordering::SeqCst),
            p.decided.load(Ordering::SeqCst),
        );
        let busy_enough = start.elapsed() >= Duration::from_millis(1500) && s >= 100 && d >= 10;
        if busy_enough || start.elapsed() >= Duration::from_secs(90) {
            break;
        }
    }
    let burst_time = start.elapsed();
    let status = server.kill9();
    p.killed.store(true, Ordering::SeqCst);
    assert_eq!(
        status.signal(),
        Some(9),
        "serve did not die of SIGKILL: {status:?}"
    );
    let mut b = Burst::default();
    for t in tasks {
        b.merge(t.await.unwrap());
    }
    assert!(
        b.unexpected.is_empty(),
        "unexpected answers: {:#?}",
        b.unexpected
    );
    assert!(
        b.submitted.len() >= 100 && !b.decided.is_empty(),
        "the burst was too small to prove anything: {} submissions, {} decisions acknowledged in {burst_time:?}",
        b.submitted.len(),
        b.decided.len()
    );
    drop(server);

    // Restart on the same data directory.
    let server = Server::start(&db);
    let base = server.base();
    let client = client();
    let key = mods[0].1.as_str();

    // Every stored comment, by status, checked against the counts the server reports; the
    // same again through the per-head score rows.
    let mut stored: HashMap<String, Value> = HashMap::new();
    let mut total_counted = 0;
    for status in ["published", "pending", "approved", "rejected"] {
        let (items, counts) = list_status(&client, &base, key, status, None).await;
        assert_eq!(
            counts.keys().map(String::as_str).collect::<Vec<_>>(),
            ["approved", "pending", "published", "rejected"],
            "{counts:?}"
        );
        assert_eq!(counts[status], items.len() as i64, "count of {status}");
        total_counted = counts.values().sum::<i64>();
        let (by_head, _) = list_status(&client, &base, key, status, Some("toxicity")).await;
        let ids = |v: &[Value]| -> HashSet<String> {
            v.iter()
                .map(|c| c["id"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(
            ids(&by_head),
            ids(&items),
            "{status}: comments without score rows"
        );
        for c in items {
            assert_eq!(c["status"], status, "{c}");
            let id = c["id"].as_str().unwrap().to_owned();
            assert!(stored.insert(id.clone(), c).is_none(), "{id} listed twice");
        }
    }
    assert_eq!(
        total_counted,
        stored.len() as i64,
        "counts per status do not sum to the comments"
    );

    // Nothing stored that was not sent, nothing changed.
    for (id, c) in &stored {
        let sent = b
            .sent
            .get(id)
            .unwrap_or_else(|| panic!("{id} stored but never sent"));
        assert_eq!(c["text"], sent.as_str(), "{id}: text changed");
    }

    // Each comment's history, fetched by 8 tasks at once.
    let ids: Vec<String> = stored.keys().cloned().collect();
    let mut fetches = tokio::task::JoinSet::new();
    for chunk in ids.chunks(ids.len().div_ceil(8).max(1)) {
        let (client, base, key, chunk) =
            (client.clone(), base.clone(), key.to_owned(), chunk.to_vec());
        fetches.spawn(async move {
            let mut out = Vec::new();
            for id in chunk {
                let (s, d) = get(&client, &format!("{base}/v1/comments/{id}"), Some(&key)).await;
                assert_eq!(s, 200, "{id}: {d}");
                out.push((id, d));
            }
            out
        });
    }
    let mut details: HashMap<String, Value> = HashMap::new();
    while let Some(r) = fetches.join_next().await {
        details.extend(r.unwrap());
    }
    let history = |id: &str| details[id]["history"].as_array().unwrap().clone();
    for (id, c) in &stored {
        assert_eq!(
            &details[id]["comment"], c,
            "{id}: detail and queue disagree"
        );
        if let Err(e) = check_consistent(c, &history(id)) {
            panic!(
                "{id} is in a state the API cannot produce: {e}\n{}",
                details[id]
            );
        }
    }

    // Every acknowledged submission is there, with its text and the status it was given.
    for s in &b.submitted {
        let c = stored
            .get(&s.id)
            .unwrap_or_else(|| panic!("{} acknowledged but lost", s.id));
        assert_eq!(c["text"], s.text.as_str());
        assert_eq!(
            history(&s.id)[0]["to_status"],
            s.status.as_str(),
            "{}",
            s.id
        );
    }
    // Every acknowledged claim and decision is in the history, once.
    for (id, who) in &b.claimed {
        assert!(
            history(id)
                .iter()
                .any(|e| e["action"] == "claimed" && e["actor"] == who.as_str()),
            "{id}: claim by {who} acknowledged but not in the history"
        );
    }
    for d in &b.decided {
        let decisions: Vec<Value> = history(&d.id)
            .into_iter()
            .filter(|e| e["action"] == "approve" || e["action"] == "reject")
            .collect();
        assert_eq!(decisions.len(), 1, "{}: {decisions:?}", d.id);
        let e = &decisions[0];
        assert_eq!(
            (&e["action"], &e["actor"], &e["reason"], &e["version"]),
            (
                &json!(d.action),
                &json!(d.moderator),
                &json!(d.reason),
                &json!(d.version)
            ),
            "{}",
            d.id
        );
        let expected = if d.action == "approve" {
            "approved"
        } else {
            "rejected"
        };
        assert_eq!(stored[&d.id]["status"], expected, "{}", d.id);
    }

    // The submissions in flight at the kill can be retried: each is stored once, either
    // committed before the kill (200, the stored result) or not at all (201).
    let mut committed_unacked = 0;
    for id in &b.unanswered {
        let text = &b.sent[id];
        // An exact retry: the same author (`author-<worker>` of `crash-<worker>-<n>`) and
        // article, or it would be another comment under a used id (409).
        let worker = id.split('-').nth(1).expect("crash-<worker>-<n>");
        let (s, v) = post(
            &client,
            &format!("{base}/v1/comments"),
            Some(&scorer),
            &json!({"id": id, "text": text, "author": format!("author-{worker}"), "article_id": "art-crash"}),
        )
        .await;
        assert!(s == 200 || s == 201, "retry of {id}: {s} {v}");
        assert_eq!(s == 200, stored.contains_key(id), "{id}");
        committed_unacked += usize::from(s == 200);
        let (_, d) = get(&client, &format!("{base}/v1/comments/{id}"), Some(key)).await;
        let submitted = d["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "submitted")
            .count();
        assert_eq!(submitted, 1, "{id}: {d}");
    }

    // The restarted server takes new submissions and decisions.
    let (s, c) = post(
        &client,
        &format!("{base}/v1/comments"),
        Some(&scorer),
        &json!({"id": "after-restart", "text": "Quelle bande de bras cassés"}),
    )
    .await;
    assert_eq!((s, c["status"].as_str()), (201, Some("pending")), "{c}");
    let (s, claimed) = post(
        &client,
        &format!("{base}/v1/queue/claim"),
        Some(key),
        &json!({}),
    )
    .await;
    assert_eq!(s, 200, "{claimed}");
    let claimed_id = claimed["id"].as_str().unwrap().to_owned();
    let (s, d) = post(
        &client,
        &format!("{base}/v1/comments/{claimed_id}/decision"),
        Some(key),
        &json!({"action": "reject", "version": claimed["version"]}),
    )
    .await;
    assert_eq!((s, d["status"].as_str()), (200, Some("rejected")), "{d}");
    if claimed_id != "after-restart" {
        let (s, d) = post(
            &client,
            &format!("{base}/v1/comments/after-restart/decision"),
            Some(key),
            &json!({"action": "approve", "version": 1}),
        )
        .await;
        assert_eq!((s, d["status"].as_str()), (200, Some("approved")), "{d}");
    }
    let (_, d) = get(
        &client,
        &format!("{base}/v1/comments/{claimed_id}"),
        Some(key),
    )
    .await;
    assert_eq!(d["comment"]["status"], "rejected");
    check_consistent(&d["comment"], d["history"].as_array().unwrap()).unwrap();

    eprintln!(
        "sigkill: killed after {burst_time:?} of burst; checked {} acknowledged submissions, {} claims \
         and {} decisions; {} comments stored, all consistent; {} submissions were in flight \
         ({committed_unacked} of them committed, answered 200 on retry); {} answers were 503",
        b.submitted.len(),
        b.claimed.len(),
        b.decided.len(),
        stored.len(),
        b.unanswered.len(),
        b.unavailable,
    );
}

// ---------------------------------------------------------------------------------------
// 2. SIGTERM

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(60))).unwrap();
    s
}

/// Reads up to the end of a response head.
fn read_head(s: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            other => panic!(
                "connection ended inside a response head ({other:?}): {:?}",
                String::from_utf8_lossy(&head)
            ),
        }
    }
    String::from_utf8(head).unwrap()
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .expect("a content-length header")
}

/// A POST /v1/score whose head promises the whole body, and half of the body: the server
/// is inside the handler (it asked for the body with `100 Continue`), waiting for the rest.
fn request_in_flight(addr: SocketAddr, body: &[u8]) -> TcpStream {
    let mut s = connect(addr);
    let head = format!(
        "POST /v1/score HTTP/1.1\r\nHost: vigie\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let cont = read_head(&mut s);
    assert!(cont.starts_with("HTTP/1.1 100 "), "{cont:?}");
    s.write_all(&body[..body.len() / 2]).unwrap();
    s
}

/// Whether a new connection is refused: connecting fails, or the connection is closed
/// without an answer.
fn new_request_refused(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return true;
    };
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: vigie\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return true;
    }
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp);
    !resp.starts_with(b"HTTP/1.1 200")
}

#[test]
fn sigterm_finishes_the_request_in_flight_refuses_new_ones_and_exits_0() {
    let _serial = SERIAL.blocking_lock();
    let dir = TempDir::new("faults-sigterm");
    let mut server = Server::start(&["--data-dir", dir.path().to_str().unwrap()]);
    let addr = server.addr;

    // An idle keep-alive connection: one request answered, the connection left open.
    let mut idle = connect(addr);
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: vigie\r\n\r\n")
        .unwrap();
    let head = read_head(&mut idle);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let mut body = vec![0; content_length(&head)];
    idle.read_exact(&mut body).unwrap();

    let body =
        json!({"text": "Merci pour cet article, très clair et bien documenté.", "lang": "fr"})
            .to_string()
            .into_bytes();
    let mut inflight = request_in_flight(addr, &body);

    server.signal("TERM");
    let t0 = Instant::now();
    let mut refused = false;
    while t0.elapsed() < Duration::from_secs(20) {
        if new_request_refused(addr) {
            refused = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(refused, "new requests still answered 20 s after SIGTERM");
    let refused_after = t0.elapsed();
    assert!(
        server.exited().is_none(),
        "serve exited with a request in flight"
    );

    // The idle connection is closed, so it cannot hold the shutdown up.
    let mut byte = [0u8; 1];
    match idle.read(&mut byte) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("idle keep-alive connection not closed after SIGTERM: {other:?}"),
    }

    // The request in flight gets its whole answer, then the connection closes.
    inflight.write_all(&body[body.len() / 2..]).unwrap();
    let mut resp = Vec::new();
    inflight
        .read_to_end(&mut resp)
        .expect("the answer, then the connection closed");
    let resp = String::from_utf8(resp).unwrap();
    let (head, json_body) = resp.split_once("\r\n\r\n").expect("a complete response");
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );
    assert_eq!(json_body.len(), content_length(head), "truncated body");
    let v: Value = serde_json::from_str(json_body).unwrap();
    assert!(v["scores"]["toxicity"].as_f64().is_some(), "{v}");
    assert!(v["model_id"].as_str().is_some(), "{v}");

    let status = server
        .wait_exit(Duration::from_secs(15))
        .expect("serve still running 15 s after its last request finished");
    assert_eq!(status.code(), Some(0), "{status:?}");
    eprintln!(
        "sigterm: new connections refused {refused_after:?} after SIGTERM; in-flight request \
         answered; exited 0 {:?} after SIGTERM",
        t0.elapsed()
    );
}

#[test]
fn sigterm_with_a_request_that_never_finishes_exits_after_the_grace_period() {
    let _serial = SERIAL.blocking_lock();
    let dir = TempDir::new("faults-grace");
    let mut server = Server::start(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--shutdown-grace-secs",
        "2",
    ]);
    let body = json!({"text": "Un commentaire qui n'arrivera jamais en entier"})
        .to_string()
        .into_bytes();
    let mut stuck = request_in_flight(server.addr, &body);
    server.signal("TERM");
    let t0 = Instant::now();
    let status = server
        .wait_exit(Duration::from_secs(30))
        .expect("serve still running 30 s after SIGTERM with a grace period of 2 s");
    let waited = t0.elapsed();
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(
        waited >= Duration::from_millis(1900),
        "exited after {waited:?}: it did not wait for the request in flight"
    );
    let mut rest = Vec::new();
    let _ = stuck.read_to_end(&mut rest);
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
    eprintln!("grace: exited 0 {waited:?} after SIGTERM (grace 2 s)");
}

/// Slowloris: a client that sends its request line and then a header line now and then is
/// cut off once the header-read timeout passes, and does not hold up a SIGTERM.
#[test]
fn slow_headers_are_cut_off_and_do_not_hold_the_shutdown() {
    let _serial = SERIAL.blocking_lock();
    let dir = TempDir::new("faults-slowloris");
    let mut server = Server::start(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--header-read-timeout-secs",
        "1",
        "--shutdown-grace-secs",
        "20",
    ]);
    let mut slow = connect(server.addr);
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: vigie\r\n")
        .unwrap();
    let t0 = Instant::now();
    let mut cut_after = None;
    while t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(300));
        if slow.write_all(b"X-Slow: 1\r\n").is_err() {
            cut_after = Some(t0.elapsed());
            break;
        }
        slow.set_read_timeout(Some(Duration::from_millis(1)))
            .unwrap();
        let mut byte = [0u8; 1];
        match slow.read(&mut byte) {
            Ok(_) => {
                // 0: closed; anything else: the server answered (408) and will close.
                cut_after = Some(t0.elapsed());
                break;
            }
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => {
                cut_after = Some(t0.elapsed());
                break;
            }
        }
    }
    let cut_after = cut_after.expect("the slow connection was still open after 10 s");
    assert!(
        cut_after < Duration::from_secs(5),
        "cut after {cut_after:?}"
    );
    // Another slow client, then SIGTERM: it is not a request in flight, so the process
    // exits long before the 20 s grace period.
    let mut slow = connect(server.addr);
    slow.write_all(b"GET /healthz HTTP/1.1\r\n").unwrap();
    server.signal("TERM");
    let t0 = Instant::now();
    let status = server
        .wait_exit(Duration::from_secs(15))
        .expect("serve still running 15 s after SIGTERM with a slow client connected");
    assert_eq!(status.code(), Some(0), "{status:?}");
    eprintln!(
        "slowloris: cut after {cut_after:?}; exited {:?} after SIGTERM",
        t0.elapsed()
    );
}

// ---------------------------------------------------------------------------------------
// 3. PostgreSQL stopped under a running server

/// A PostgreSQL cluster of its own in a temp directory, on a free port; stopped and removed
/// when dropped.
struct PgCluster {
    root: PathBuf,
    bin: PathBuf,
    /// Run the server's commands as `postgres` (we are root, which PostgreSQL refuses).
    as_postgres: bool,
    port: u16,
    /// The postmaster's pid once started: stopped by signal if `pg_ctl stop` cannot.
    pid: std::cell::Cell<Option<u32>>,
}

fn find_pg_bin() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("VIGIE_PG_BIN") {
        return Some(d.into());
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.split('.').next()?.parse().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("initdb").is_file())
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::split_paths(&std::env::var_os("PATH")?).find(|d| d.join("initdb").is_file())
}

fn output_of(mut c: Command) -> std::process::Output {
    c.output().unwrap_or_else(|e| panic!("{c:?}: {e}"))
}

impl PgCluster {
    /// `Err`: why there can be no cluster here (a reason to skip).
    fn create() -> Result<PgCluster, String> {
        let bin =
            find_pg_bin().ok_or("no initdb (looked in /usr/lib/postgresql/*/bin and PATH)")?;
        let uid = output_of({
            let mut c = Command::new("id");
            c.arg("-u");
            c
        });
        let as_postgres = String::from_utf8_lossy(&uid.stdout).trim() == "0";
        if as_postgres
            && !output_of({
                let mut c = Command::new("id");
                c.args(["-u", "postgres"]);
                c
            })
            .status
            .success()
        {
            return Err("running as root and there is no `postgres` user to run initdb".into());
        }
        let root =
            std::env::temp_dir().join(format!("vigie-faults-cluster-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = PgCluster {
            root,
            bin,
            as_postgres,
            port,
            pid: std::cell::Cell::new(None),
        };
        if as_postgres {
            let mut c = Command::new("chown");
            c.args(["postgres:", pg.root.to_str().unwrap()]);
            assert!(output_of(c).status.success(), "chown the cluster directory");
        }
        pg.run(
            "initdb",
            &["-D", pg.data().as_str(), "-A", "trust", "-U", "postgres"],
            &["-N", "-E", "UTF8", "--locale=C"],
        );
        Ok(pg)
    }

    fn data(&self) -> String {
        self.root.join("data").to_str().unwrap().to_owned()
    }

    fn command(&self, prog: &str) -> Command {
        let exe = self.bin.join(prog);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    fn run(&self, prog: &str, args: &[&str], more: &[&str]) {
        let mut c = self.command(prog);
        c.args(args).args(more).stdin(Stdio::null());
        let out = output_of(c);
        assert!(
            out.status.success(),
            "{prog} {args:?} failed: {}{}\nserver log:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.root.join("log")).unwrap_or_default()
        );
    }

    fn start(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.root.display()
        );
        let log = self.root.join("log");
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-l", log.to_str().unwrap(), "-o", &opts],
            &["-w", "-t", "120", "start"],
        );
        let pid = std::fs::read_to_string(self.root.join("data/postmaster.pid")).unwrap();
        self.pid
            .set(pid.lines().next().and_then(|l| l.trim().parse().ok()));
    }

    fn stop(&self) {
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "fast"],
            &["-w", "-t", "120", "stop"],
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let mut c = self.command("pg_ctl");
        c.args(["-D", &self.data(), "-m", "immediate", "-w", "stop"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let stopped = c.status().is_ok_and(|s| s.success());
        if let (false, Some(pid)) = (stopped, self.pid.get()) {
            // SIGQUIT: PostgreSQL's immediate shutdown.
            let _ = Command::new("kill")
                .args(["-QUIT", &pid.to_string()])
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_gets_quick_503s_and_the_service_recovers_by_itself() {
    let _serial = SERIAL.lock().await;
    let pg = match PgCluster::create() {
        Ok(pg) => pg,
        Err(why) => {
            common::postgres::unavailable(&format!("no private PostgreSQL cluster: {why}"));
            return;
        }
    };
    pg.start();
    let url = pg.url();
    let db = ["--database-url", url.as_str()];
    let scorer = create_key(&db, "site", "scorer");
    let moderator = create_key(&db, "mod", "moderator");
    let dir = TempDir::new("faults-pg-serve");
    let server = Server::start(&[
        "--database-url",
        &url,
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--metrics-addr",
        "127.0.0.1:0",
    ]);
    let base = server.base();
    let client = client();
    let submit =
        |id: &str| json!({"id": id, "text": format!("Quelle bande de bras cassés ({id})")});
    let metrics = format!("http://{}/metrics", server.metrics_addr());
    let unavailable = || async {
        let text = client
            .get(&metrics)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let e = common::prom::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        e.count("vigie_database_failures_total", &[("kind", "unavailable")])
    };
    let unavailable_before = unavailable().await;

    let (s, before) = post(
        &client,
        &format!("{base}/v1/comments"),
        Some(&scorer),
        &submit("before"),
    )
    .await;
    assert_eq!(s, 201, "{before}");
    assert_eq!(get(&client, &format!("{base}/readyz"), None).await.0, 200);

    pg.stop();
    let (s, v) = get(&client, &format!("{base}/healthz"), None).await;
    assert_eq!((s, &v["status"]), (200, &json!("ok")), "{v}");

    let t = Instant::now();
    let (s, v) = get(&client, &format!("{base}/readyz"), None).await;
    let readyz_took = t.elapsed();
    assert_eq!(s, 503, "{v}");
    common::errors::assert_error(&v, "database_unavailable");

    let t = Instant::now();
    let (s, v) = post(
        &client,
        &format!("{base}/v1/score"),
        None,
        &json!({"text": "Toujours là ?"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert!(v["scores"]["toxicity"].as_f64().is_some(), "{v}");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "scoring took {:?} with the database down",
        t.elapsed()
    );

    let t = Instant::now();
    let (s, v) = post(
        &client,
        &format!("{base}/v1/comments"),
        Some(&scorer),
        &submit("during"),
    )
    .await;
    let submit_took = t.elapsed();
    assert_eq!(s, 503, "{v}");
    common::errors::assert_error(&v, "database_unavailable");
    // The pool gives up after its 5 s acquire timeout, not sqlx's default 30 s.
    for (what, took) in [("/readyz", readyz_took), ("POST /v1/comments", submit_took)] {
        assert!(
            took < Duration::from_secs(12),
            "{what} took {took:?} to answer 503"
        );
    }

    pg.start();
    let t = Instant::now();
    loop {
        let (s, v) = get(&client, &format!("{base}/readyz"), None).await;
        if s == 200 {
            assert_eq!(v["database"], "ok", "{v}");
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "not ready 30 s after PostgreSQL came back: {s} {v}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let recovered_in = t.elapsed();
    let (s, v) = post(
        &client,
        &format!("{base}/v1/comments"),
        Some(&scorer),
        &submit("after"),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let (s, d) = get(
        &client,
        &format!("{base}/v1/comments/before"),
        Some(&moderator),
    )
    .await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["comment"]["text"], before["text"]);
    assert_eq!(d["history"].as_array().unwrap().len(), 1, "{d}");
    let (s, d) = get(
        &client,
        &format!("{base}/v1/comments/during"),
        Some(&moderator),
    )
    .await;
    assert_eq!(s, 404, "a submission answered 503 was stored: {d}");
    // Counted, at least /readyz's and the submission's (its key lookup) while it was down.
    let counted = unavailable().await - unavailable_before;
    assert!(counted >= 2.0, "{counted} database failures counted");
    eprintln!(
        "postgres: /readyz 503 in {readyz_took:?}, POST /v1/comments 503 in {submit_took:?}; \
         ready again {recovered_in:?} after PostgreSQL restarted"
    );
    drop(server);
}

// ---------------------------------------------------------------------------------------
// 4. Metrics on the real binary (moved from the in-process metrics tests)

/// The real `serve`: on its address `/metrics` needs an admin key; `--metrics-addr` serves it
/// without one, and nothing else.
#[tokio::test(flavor = "multi_thread")]
async fn serve_keeps_metrics_behind_a_key_or_on_their_own_address() {
    let data = TempDir::new("metrics-serve");
    let db = ["--data-dir", data.path().to_str().unwrap()];
    let admin = create_key(&db, "ops", "admin");
    let mut server = Server::start(&[db[0], db[1], "--metrics-addr", "127.0.0.1:0"]);
    let internal = server.metrics_addr();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = format!("{}/metrics", server.base());

    let r = client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = client
        .post(format!("{}/v1/score", server.base()))
        .json(&json!({"text": common::texts::TEXTS[3]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client.get(&url).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    common::prom::parse(&r.text().await.unwrap()).unwrap();

    let r = client
        .get(format!("http://{internal}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let e = common::prom::parse(&r.text().await.unwrap()).unwrap();
    let m = |route, status| {
        e.count(
            "vigie_http_requests_total",
            &[("method", "GET"), ("route", route), ("status", status)],
        )
    };
    assert_eq!((m("/metrics", "401"), m("/metrics", "200")), (1.0, 1.0));
    let scored = e.count(
        "vigie_http_requests_total",
        &[
            ("method", "POST"),
            ("route", "/v1/score"),
            ("status", "200"),
        ],
    );
    assert_eq!(scored, 1.0);
    // The model file's age, as its modification time says (give or take the test's time).
    let written = std::fs::metadata(common::files::path("models/default.vigie"))
        .unwrap()
        .modified()
        .unwrap();
    let age = std::time::SystemTime::now()
        .duration_since(written)
        .unwrap()
        .as_secs_f64();
    let reported = e
        .get("vigie_model_age_seconds", &[])
        .expect("the age of a model file");
    assert!(
        reported <= age && reported > age - 120.0,
        "{reported} vs {age}"
    );

    let r = client
        .get(format!("http://{internal}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "only /metrics on the metrics address");

    // One SIGTERM stops both listeners.
    server.signal("TERM");
    let status = server.wait_exit(Duration::from_secs(10));
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
}
