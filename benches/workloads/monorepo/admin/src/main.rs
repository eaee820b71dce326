use clap::Parser;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "list")]
    action: String,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let event = common::event(&args.action);
    println!("admin: {} {}", serde_json::to_string(&event.kind)?, uuid::Uuid::now_v7().get_version_num());
    Ok(())
}
