use clap::Parser;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
}

#[derive(serde::Serialize)]
struct Health {
    id: uuid::Uuid,
    at: chrono::DateTime<chrono::Utc>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt::init();
    let args = Args::parse();
    let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
    let one: (i64,) = sqlx::query_as("SELECT 1").fetch_one(&pool).await?;
    let packed = zstd::encode_all(&b"health"[..], 3)?;
    tracing::info!(listen = %args.listen, one = one.0, packed = packed.len(), "ready");
    let _client = reqwest::Client::new();
    let _ = tonic::Status::ok("ok");
    let _ = prost::Message::encoded_len(&0u32);
    let app: axum::Router = axum::Router::new().route(
        "/health",
        axum::routing::get(|| async {
            axum::Json(Health { id: uuid::Uuid::new_v4(), at: chrono::Utc::now() })
        }),
    );
    println!("{}", serde_json::to_string(&Health { id: uuid::Uuid::nil(), at: chrono::Utc::now() })?);
    let _ = app;
    Ok(())
}
