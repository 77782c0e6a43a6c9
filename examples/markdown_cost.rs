//! What rendering costs for the worst post shapes we know, accepted or refused (release
//! build): `cargo run --release --example markdown_cost`. Each case is rendered
//! `ROUNDS` times; the table shows the median and slowest time, the HTML's size, and
//! whether the post was accepted. The goal (issue 28): every case under 20 ms.
//! `--worst` prints the slowest accepted case's Markdown (for the load benchmark).

use std::time::{Duration, Instant};

use agora::text::markdown::{self, RenderError};

const ROUNDS: usize = 15;
const MAX_CHARS: usize = 32_000;

fn cases() -> Vec<(&'static str, String)> {
    let rust = "fn main() { let x: Vec<u8> = (0..10).map(|i| i * 2).collect(); println!(\"{x:?}\"); }\n";
    vec![
        (
            "review: padded table (4000 columns)",
            format!("{}|\n{}|\n{}", "|a".repeat(4000), "|-".repeat(4000), "x\n".repeat(7900)),
        ),
        ("review: [quote=\"\"] x 2900", "[quote=\"\"]\n".repeat(2900)),
        ("- > x 8000", "- > ".repeat(8000)),
        ("depth 24 lines", format!("{}x\n", "> ".repeat(23)).repeat(MAX_CHARS / 50)),
        ("depth 24 list-quote", format!("{}x\n\n", "- > ".repeat(11)).repeat(MAX_CHARS / 48)),
        (
            "quotes 12 deep, repeated",
            format!("{}x\n{}", "[quote=\"a\"]\n".repeat(12), "[/quote]\n".repeat(12)).repeat(100),
        ),
        ("flat text", "word ".repeat(6400)),
        ("4-byte characters", "😀".repeat(MAX_CHARS)),
        ("emphasis", "*a **b** c* ".repeat(2600)),
        ("links", "[a](https://e.org/x) ".repeat(1500)),
        ("empty links", "[](x) ".repeat(5300)),
        ("autolinks", "<https://e.org> ".repeat(2000)),
        ("emoji shortcodes", ":+1: ".repeat(6400)),
        ("raw html nesting", "<div>".repeat(6000)),
        ("raw html nesting at the bound", "<div>".repeat(1000)),
        ("raw inline html nesting at the bound", "<span>".repeat(1000)),
        ("raw html attributes at the bound", "<b title=\"xxxxxxxxxxxxxxxxxxxxxxxx\">b</b>".repeat(500)),
        ("mixed html in quotes", format!("{}{}", "> ".repeat(20), "<blockquote>".repeat(2000))),
        ("table 2000 cells", format!("|a|b|c|d|\n|-|-|-|-|\n{}", "|1|2|3|4|\n".repeat(499))),
        ("table 2000 empty cells", format!("{}|\n{}|\n{}", "|".repeat(50), "|-".repeat(50), "|\n".repeat(39))),
        ("table 3 columns x 4500 rows", format!("|a|b|c|\n|-|-|-|\n{}", "|1|2|3|\n".repeat(4500))),
        ("task list", "- [x] a\n".repeat(4000)),
        ("highlighted rust, 2 x 16 KB", format!("```rust\n{}```\n\n", rust.repeat(16_000 / rust.len())).repeat(2)),
        ("highlighted html, 2 x 16 KB", format!("```html\n{}```\n\n", "<p class=\"a\">x</p>\n".repeat(800)).repeat(2)),
        ("mentions (none known)", "@someone ".repeat(3500)),
        ("highlighted rust at the budget (1 KB)", format!("```rust\n{}```\n", rust.repeat(1020 / rust.len()))),
        (
            "all at once: 1 KB highlighted, 2,450 links",
            format!("```rust\n{}```\n\n{}", rust.repeat(1020 / rust.len()), "<https://e.org> ".repeat(1225)),
        ),
    ]
}

fn main() {
    let worst_only = std::env::args().any(|a| a == "--worst");
    let mut worst: Option<(Duration, String)> = None;
    if !worst_only {
        println!("{:<40} {:>9} {:>9} {:>9}  outcome", "case", "median", "slowest", "HTML KB");
    }
    for (name, input) in cases() {
        let input: String = input.chars().take(MAX_CHARS).collect();
        let mut times = Vec::with_capacity(ROUNDS);
        let mut outcome: Result<String, RenderError> = Ok(String::new());
        for _ in 0..ROUNDS {
            let started = Instant::now();
            outcome = markdown::render(&input);
            times.push(started.elapsed());
        }
        times.sort();
        let (median, slowest) = (times[ROUNDS / 2], times[ROUNDS - 1]);
        if outcome.is_ok() && worst.as_ref().is_none_or(|(t, _)| median > *t) {
            worst = Some((median, input.clone()));
        }
        if !worst_only {
            let (size, verdict) = match &outcome {
                Ok(html) => (format!("{:.1}", html.len() as f64 / 1024.0), "accepted".to_string()),
                Err(e) => ("-".into(), format!("refused: {e:?}")),
            };
            println!("{name:<40} {:>7.2}ms {:>7.2}ms {size:>9}  {verdict}", ms(median), ms(slowest));
        }
    }
    if let Some((_, input)) = worst.filter(|_| worst_only) {
        print!("{input}");
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
