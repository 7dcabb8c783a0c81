//! Scores the analyser against the labelled evaluation set in `eval/` and guards against
//! regressions. The development split was used while writing the lexicons; the test split was
//! only scored at the end. `EVAL_VERBOSE=1 cargo test -p px360-sentiment --test eval -- --nocapture`
//! also prints every miss.

use std::collections::BTreeSet;

use px360_sentiment::{Sentiment, Theme, analyse};

struct Item {
    label: Sentiment,
    themes: BTreeSet<Theme>,
    text: String,
}

fn load(name: &str) -> Vec<Item> {
    let path = format!("{}/eval/{name}", env!("CARGO_MANIFEST_DIR"));
    let src = std::fs::read_to_string(&path).expect("eval file");
    src.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut cols = l.splitn(3, '\t');
            let (label, themes, text) = (
                cols.next().expect("three columns"),
                cols.next().expect("three columns"),
                cols.next().expect("three columns"),
            );
            let label = match label {
                "neg" => Sentiment::Negative,
                "neu" => Sentiment::Neutral,
                "pos" => Sentiment::Positive,
                other => panic!("{name}: bad label {other:?}"),
            };
            let themes = if themes == "-" {
                BTreeSet::new()
            } else {
                themes
                    .split(',')
                    .map(|t| Theme::parse(t).unwrap_or_else(|| panic!("{name}: theme {t}")))
                    .collect()
            };
            Item {
                label,
                themes,
                text: text.to_string(),
            }
        })
        .collect()
}

#[derive(Debug)]
struct Metrics {
    n: usize,
    accuracy: f64,
    macro_f1: f64,
    theme_precision: f64,
    theme_recall: f64,
}

const CLASSES: [Sentiment; 3] = [Sentiment::Negative, Sentiment::Neutral, Sentiment::Positive];

fn evaluate(name: &str) -> Metrics {
    evaluate_with(name, &|t: &str| {
        let a = analyse(t);
        (a.sentiment, a.score, a.themes.into_iter().collect())
    })
}

type Classifier<'a> = &'a dyn Fn(&str) -> (Sentiment, f32, BTreeSet<Theme>);

fn evaluate_with(name: &str, classify: Classifier) -> Metrics {
    let items = load(name);
    let verbose = std::env::var_os("EVAL_VERBOSE").is_some();
    let mut confusion = [[0usize; 3]; 3]; // [gold][predicted]
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    for it in &items {
        let (sentiment, score, found) = classify(&it.text);
        let gold = CLASSES.iter().position(|c| *c == it.label).expect("class");
        let pred = CLASSES.iter().position(|c| *c == sentiment).expect("class");
        confusion[gold][pred] += 1;
        tp += found.intersection(&it.themes).count();
        fp += found.difference(&it.themes).count();
        fn_ += it.themes.difference(&found).count();
        if verbose && (gold != pred || found != it.themes) {
            let t =
                |s: &BTreeSet<Theme>| s.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(",");
            println!(
                "{name}: gold {:?} got {:?} ({:+.2}) themes [{}] got [{}] :: {}",
                it.label,
                sentiment,
                score,
                t(&it.themes),
                t(&found),
                it.text
            );
        }
    }
    let n = items.len();
    let correct: usize = (0..3).map(|i| confusion[i][i]).sum();
    let f1s: Vec<f64> = (0..3)
        .map(|c| {
            let tp = confusion[c][c] as f64;
            let pred: usize = (0..3).map(|g| confusion[g][c]).sum();
            let gold: usize = confusion[c].iter().sum();
            let (p, r) = (tp / pred.max(1) as f64, tp / gold.max(1) as f64);
            if p + r == 0.0 {
                0.0
            } else {
                2.0 * p * r / (p + r)
            }
        })
        .collect();
    let m = Metrics {
        n,
        accuracy: correct as f64 / n as f64,
        macro_f1: f1s.iter().sum::<f64>() / 3.0,
        theme_precision: tp as f64 / (tp + fp).max(1) as f64,
        theme_recall: tp as f64 / (tp + fn_).max(1) as f64,
    };
    println!(
        "{name}: n={} accuracy={:.3} macro-F1={:.3} (neg {:.3} neu {:.3} pos {:.3}) themes P={:.3} R={:.3} confusion(gold×pred neg/neu/pos)={:?}",
        m.n,
        m.accuracy,
        m.macro_f1,
        f1s[0],
        f1s[1],
        f1s[2],
        m.theme_precision,
        m.theme_recall,
        confusion
    );
    m
}

/// Floors sit a few points under the measured values (see README): a guard, not a target.
fn guard(name: &str, min_n: usize, acc: f64, f1: f64, tp: f64, tr: f64) {
    let m = evaluate(name);
    assert!(m.n >= min_n, "{name}: only {} items", m.n);
    assert!(
        m.accuracy >= acc,
        "{name}: accuracy {:.3} < {acc}",
        m.accuracy
    );
    assert!(
        m.macro_f1 >= f1,
        "{name}: macro-F1 {:.3} < {f1}",
        m.macro_f1
    );
    assert!(
        m.theme_precision >= tp,
        "{name}: theme precision {:.3} < {tp}",
        m.theme_precision
    );
    assert!(
        m.theme_recall >= tr,
        "{name}: theme recall {:.3} < {tr}",
        m.theme_recall
    );
}

#[test]
fn english_dev() {
    guard("en.dev.tsv", 100, 0.94, 0.94, 0.80, 0.95);
}

#[test]
fn arabic_dev() {
    guard("ar.dev.tsv", 100, 0.93, 0.91, 0.82, 0.95);
}

#[test]
fn english_test() {
    guard("en.test.tsv", 100, 0.93, 0.92, 0.78, 0.96);
}

#[test]
fn arabic_test() {
    guard("ar.test.tsv", 100, 0.88, 0.85, 0.80, 0.95);
}

/// VADER (crate `vader_sentiment`, its English lexicon built in) on the same English items, with
/// its usual ±0.05 compound thresholds: the registry alternative the brief asked to compare.
/// It has no themes and scores Arabic 0. The assertion records that our lexicon stays ahead of it
/// on hospital feedback; if that ever flips, switching is worth a look.
#[test]
fn vader_english_comparison() {
    let vader = vader_sentiment::SentimentIntensityAnalyzer::new();
    let classify = |t: &str| {
        let compound = vader
            .polarity_scores(t)
            .get("compound")
            .copied()
            .unwrap_or(0.0) as f32;
        let s = if compound >= 0.05 {
            Sentiment::Positive
        } else if compound <= -0.05 {
            Sentiment::Negative
        } else {
            Sentiment::Neutral
        };
        (s, compound, BTreeSet::new())
    };
    for name in ["en.dev.tsv", "en.test.tsv"] {
        let ours = evaluate(name);
        let theirs = evaluate_with(name, &classify);
        println!(
            "{name}: VADER accuracy={:.3} macro-F1={:.3}",
            theirs.accuracy, theirs.macro_f1
        );
        assert!(
            ours.macro_f1 > theirs.macro_f1,
            "{name}: VADER {:.3} ≥ ours {:.3}",
            theirs.macro_f1,
            ours.macro_f1
        );
    }
    let arabic = evaluate_with("ar.test.tsv", &classify);
    println!(
        "ar.test.tsv: VADER accuracy={:.3} macro-F1={:.3}",
        arabic.accuracy, arabic.macro_f1
    );
}
