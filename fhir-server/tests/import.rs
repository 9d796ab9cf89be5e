//! `carer-fhir import`'s library: NDJSON into a SQLite database and into a
//! server over HTTP; bad lines are reported with file and line, the rest load.
//!
//! Needs base R4 in the package cache.

use std::sync::{Arc, OnceLock};

use fhir_core::package::{cache, Registry};
use fhir_server::import::{self, Report};
use fhir_server::server::{router, AppState};
use fhir_server::store::sql::SqlStore;

fn registry() -> &'static Registry {
    static R: OnceLock<&'static Registry> = OnceLock::new();
    R.get_or_init(|| {
        let r = Registry::base_r4(&cache::cache_dir()).expect("base R4 installed");
        Box::leak(Box::new(r))
    })
}

const NDJSON: &str = r#"{"resourceType":"Patient","id":"p1","name":[{"family":"One"}]}
{"resourceType":"Patient","id":"p2","name":[{"family":"Two"}]}
not json at all
{"resourceType":"Patient","id":"p3","birthDate":"yesterday"}
{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"weight"},"subject":{"reference":"Patient/p1"}}
"#;

async fn state(dir: &std::path::Path) -> Arc<AppState> {
    let store = SqlStore::connect(&format!("sqlite:{}", dir.join("db.sqlite").display()))
        .await
        .unwrap();
    Arc::new(AppState::new(
        Arc::new(store),
        registry(),
        "http://localhost",
        fhir_server::interaction::Access::Open,
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_records_the_organisation_whose_data_it_loads() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data.ndjson");
    std::fs::write(&file, NDJSON).unwrap();
    let st = state(dir.path()).await;
    let mut report = Report::default();
    import::read_chunks(&file, &mut report, |items| {
        let st = st.clone();
        async move {
            let prepared = import::prepare_chunk(&st, items).await?;
            import::write_chunk(&st, prepared, Some("A81001")).await
        }
    })
    .await
    .unwrap();
    assert_eq!(report.stored, 3);
    for (t, id) in [("Patient", "p1"), ("Observation", "o1")] {
        let s = st.store.read(t, id, None).await.unwrap();
        assert_eq!(s.source.as_deref(), Some("A81001"), "{t}/{id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ndjson_loads_into_a_database_and_reports_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data.ndjson");
    std::fs::write(&file, NDJSON).unwrap();
    let files = import::files(&[dir.path().to_path_buf()]).unwrap();
    assert_eq!(import::count(&files), 5);
    let st = state(dir.path()).await;
    let mut report = Report::default();
    import::read_chunks(&file, &mut report, |items| import::store_chunk(&st, items))
        .await
        .unwrap();
    assert_eq!(report.stored, 3);
    let origins: Vec<&str> = report
        .failed
        .iter()
        .map(|(o, _)| o.rsplit(':').next().unwrap())
        .collect();
    assert_eq!(origins, ["3", "4"], "{:?}", report.failed);
    assert_eq!(
        st.store.read("Patient", "p2", None).await.unwrap().version,
        1
    );
    assert!(
        st.store.read("Patient", "p3", None).await.is_err(),
        "the invalid line stored nothing"
    );
    // Importing again replaces by id: versions go up, nothing duplicates.
    let mut again = Report::default();
    import::read_chunks(&file, &mut again, |items| import::store_chunk(&st, items))
        .await
        .unwrap();
    assert_eq!(
        st.store.read("Patient", "p2", None).await.unwrap().version,
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ndjson_loads_into_a_server_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data.ndjson");
    std::fs::write(&file, NDJSON).unwrap();
    let st = state(dir.path()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server_state = st.clone();
    tokio::spawn(async move { axum::serve(listener, router(server_state)).await.unwrap() });
    let client = reqwest::Client::new();
    let mut report = Report::default();
    import::read_chunks(&file, &mut report, |items| {
        let (client, base) = (&client, &base);
        async move { import::send_chunk(client, base, &[], items).await }
    })
    .await
    .unwrap();
    assert_eq!(report.stored, 3, "{:?}", report.failed);
    assert_eq!(report.failed.len(), 2);
    assert!(
        report
            .failed
            .iter()
            .any(|(_, why)| why.contains("birthDate")),
        "{:?}",
        report.failed
    );
    assert_eq!(
        st.store
            .read("Observation", "o1", None)
            .await
            .unwrap()
            .resource()
            .unwrap()["subject"]["reference"],
        "Patient/p1"
    );
}
