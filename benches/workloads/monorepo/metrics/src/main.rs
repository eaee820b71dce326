use http_body_util::Full;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let service = hyper::service::service_fn(|_req: hyper::Request<hyper::body::Incoming>| async {
        Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(bytes::Bytes::from("up 1\n"))))
    });
    let _ = (service, hyper_util::rt::TokioExecutor::new());
    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    println!("metrics: serving");
}
