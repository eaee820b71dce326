use rayon::prelude::*;

#[derive(serde::Deserialize)]
struct Row {
    amount: u64,
}

fn main() {
    let data = "amount\n3\n4\n";
    let rows: Vec<Row> = csv::Reader::from_reader(data.as_bytes()).deserialize().filter_map(Result::ok).collect();
    let total: u64 = rows.par_iter().map(|r| r.amount).sum();
    println!("batch: {total} at {}", chrono::Utc::now().timestamp() > 0);
    let _ = common::event("batch");
}
