//! Prints the analysis of each argument (or each stdin line) as JSON: handy when editing the
//! lexicons. `cargo run -p px360-sentiment --example analyse -- "the nurse was lovely"`
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let lines: Vec<String> = if args.is_empty() {
        std::io::stdin().lines().map_while(Result::ok).collect()
    } else {
        args
    };
    for text in lines {
        let a = px360_sentiment::analyse(&text);
        let ev: Vec<String> = a
            .evidence
            .iter()
            .map(|s| format!("{}={:?}", &text[s.start..s.end], s.kind))
            .collect();
        println!(
            "{:?} {:+.2} {:?} {:?} :: {}",
            a.sentiment, a.score, a.themes, ev, text
        );
    }
}
