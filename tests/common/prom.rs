//! A strict reader of Prometheus' text exposition format (0.0.4), written from its
//! specification ("Exposition formats", text-based format): `# HELP` and `# TYPE` lines,
//! samples `name{label="value",…} value [timestamp]` with escaped label values. Besides the
//! syntax it checks what a scraper relies on: a family's `TYPE` comes before its samples and
//! once, its samples are together, sample names belong to a declared family, no sample is
//! repeated, counters are not negative, and each histogram's buckets grow with `le` up to a
//! `+Inf` bucket equal to its `_count`.

use std::collections::{BTreeMap, HashMap, HashSet};

pub type Labels = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Labels,
    pub value: f64,
}

/// The samples of an exposition, after checking it.
#[derive(Debug, Clone)]
pub struct Exposition {
    pub samples: Vec<Sample>,
    pub types: HashMap<String, String>,
}

impl Exposition {
    /// The value of the sample named `name` whose labels are exactly `labels`.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let want: Labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.samples
            .iter()
            .find(|s| s.name == name && s.labels == want)
            .map(|s| s.value)
    }

    /// As [`Self::get`], 0 when the sample is absent (a counter not yet created).
    pub fn count(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels).unwrap_or(0.0)
    }

    /// The samples named `name`.
    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| s.name == name)
    }
}

fn is_name(s: &str, colon: bool) -> bool {
    let mut bytes = s.bytes();
    let ok_first = |b: u8| b.is_ascii_alphabetic() || b == b'_' || (colon && b == b':');
    bytes.next().is_some_and(ok_first) && bytes.all(|b| ok_first(b) || b.is_ascii_digit())
}

fn parse_value(s: &str) -> Result<f64, String> {
    match s {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => s.parse().map_err(|_| format!("bad value {s:?}")),
    }
}

/// `label="value",…}` after the `{`: the labels and the rest of the line.
fn parse_labels(mut s: &str) -> Result<(Labels, &str), String> {
    let mut labels = Labels::new();
    loop {
        if let Some(rest) = s.strip_prefix('}') {
            return Ok((labels, rest));
        }
        let eq = s.find("=\"").ok_or("label without =\"")?;
        let name = &s[..eq];
        if !is_name(name, false) {
            return Err(format!("bad label name {name:?}"));
        }
        let mut value = String::new();
        let mut chars = s[eq + 2..].char_indices();
        let end = loop {
            match chars.next().ok_or("unterminated label value")? {
                (i, '"') => break eq + 2 + i + 1,
                (_, '\\') => match chars.next().ok_or("dangling escape")?.1 {
                    'n' => value.push('\n'),
                    c @ ('\\' | '"') => value.push(c),
                    c => return Err(format!("bad escape \\{c}")),
                },
                (_, '\n') => return Err("newline in a label value".into()),
                (_, c) => value.push(c),
            }
        };
        if labels.insert(name.to_owned(), value).is_some() {
            return Err(format!("label {name} twice"));
        }
        s = &s[end..];
        s = s.strip_prefix(',').unwrap_or(s);
    }
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(['{', ' ']).ok_or("sample without a value")?;
    let name = &line[..name_end];
    if !is_name(name, true) {
        return Err(format!("bad metric name {name:?}"));
    }
    let (labels, rest) = match line[name_end..].strip_prefix('{') {
        Some(after) => parse_labels(after)?,
        None => (Labels::new(), &line[name_end..]),
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    if fields.is_empty() || fields.len() > 2 || !rest.starts_with(' ') {
        return Err("expected ` value [timestamp]`".into());
    }
    if let Some(ts) = fields.get(1) {
        ts.parse::<i64>()
            .map_err(|_| format!("bad timestamp {ts:?}"))?;
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value: parse_value(fields[0])?,
    })
}

/// The family a sample belongs to, given the declared types.
fn family_of(name: &str, types: &HashMap<String, String>) -> Option<String> {
    if types.contains_key(name) {
        return Some(name.to_owned());
    }
    ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
        let base = name.strip_suffix(suffix)?;
        let kind = types.get(base)?;
        let fits = kind == "histogram" || (kind == "summary" && *suffix != "_bucket");
        fits.then(|| base.to_owned())
    })
}

/// Reads and checks a whole exposition.
pub fn parse(text: &str) -> Result<Exposition, String> {
    if !text.is_empty() && !text.ends_with('\n') {
        return Err("the last line does not end with a newline".into());
    }
    let mut types = HashMap::new();
    let mut samples = Vec::new();
    let (mut done, mut current, mut seen) = (HashSet::new(), None::<String>, HashSet::new());
    for (n, line) in text.lines().enumerate() {
        let at = |e: String| format!("line {}: {e}: {line:?}", n + 1);
        if let Some(comment) = line.strip_prefix('#') {
            let words: Vec<&str> = comment.trim_start().splitn(3, ' ').collect();
            match words.as_slice() {
                ["TYPE", name, kind] => {
                    let known = ["counter", "gauge", "histogram", "summary", "untyped"];
                    if !is_name(name, true) || !known.contains(kind) {
                        return Err(at("bad TYPE".into()));
                    }
                    if types.insert(name.to_string(), kind.to_string()).is_some() {
                        return Err(at("TYPE given twice".into()));
                    }
                }
                ["HELP", name, ..] if !is_name(name, true) => return Err(at("bad HELP".into())),
                _ => {}
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let s = parse_sample(line).map_err(at)?;
        let family = family_of(&s.name, &types).ok_or_else(|| at("no TYPE for it".into()))?;
        if current.as_ref() != Some(&family) {
            if !done.insert(family.clone()) {
                return Err(at(format!("samples of {family} are not together")));
            }
            current = Some(family.clone());
        }
        if !seen.insert(format!("{}{:?}", s.name, s.labels)) {
            return Err(at("sample repeated".into()));
        }
        if types[&family] == "counter" && (s.value < 0.0 || s.value.is_nan()) {
            return Err(at("negative counter".into()));
        }
        samples.push(s);
    }
    let exposition = Exposition { samples, types };
    check_histograms(&exposition)?;
    Ok(exposition)
}

/// Buckets grow with `le`, and the `+Inf` one is the `_count`.
fn check_histograms(e: &Exposition) -> Result<(), String> {
    for (family, _) in e.types.iter().filter(|(_, k)| *k == "histogram") {
        let mut series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
        for s in e.named(&format!("{family}_bucket")) {
            let mut rest = s.labels.clone();
            let le = rest
                .remove("le")
                .ok_or(format!("{family}: bucket without le"))?;
            let le = parse_value(&le)?;
            series
                .entry(format!("{rest:?}"))
                .or_default()
                .push((le, s.value));
        }
        for s in e.named(&format!("{family}_count")) {
            let buckets = series
                .get(&format!("{:?}", s.labels))
                .ok_or(format!("{family}{:?}: a count without buckets", s.labels))?;
            let ordered = buckets
                .windows(2)
                .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1);
            let last = buckets.last().expect("at least one bucket");
            if !ordered || last.0 != f64::INFINITY || last.1 != s.value {
                return Err(format!(
                    "{family}{:?}: buckets {buckets:?}, count {}",
                    s.labels, s.value
                ));
            }
        }
    }
    Ok(())
}
