//! What rendering costs for the worst post shapes we know (release build):
//! `cargo run --release --example markdown_cost`.

fn main() {
    let cases = [
        ("- > x 8000", "- > ".repeat(8000)),
        ("depth 24 lines", format!("{}x\n", "> ".repeat(23)).repeat(32000 / 50)),
        ("depth 24 list-quote", format!("{}x\n\n", "- > ".repeat(11)).repeat(32000 / 48)),
        ("flat text", "word ".repeat(6400)),
        ("emphasis", "*a **b** c* ".repeat(2600)),
        ("links", "[a](https://e.org/x) ".repeat(1500)),
        ("raw html nesting", "<div>".repeat(6000)),
        ("raw html nesting at the bound", "<div>".repeat(1000)),
        ("raw inline html nesting", "<span>".repeat(6000)),
        ("mixed html in quotes", format!("{}{}", "> ".repeat(20), "<blockquote>".repeat(2000))),
        ("table", format!("|a|b|c|\n|-|-|-|\n{}", "|1|2|3|\n".repeat(4500))),
    ];
    for (name, input) in cases {
        let input: String = input.chars().take(32000).collect();
        let t = std::time::Instant::now();
        let out = agora::text::markdown::render(&input);
        println!("{name}: {:?} -> {:?}", t.elapsed(), out.map(|h| h.len()));
    }
}
