//! Datasets, the DataLoader, the CSV reader, standardisation and metrics.

use std::collections::BTreeSet;

use serde_json::Value;
use tapegrad::data::{accuracy, confusion_matrix, read_csv, DataLoader, Dataset, Standardizer};
use tapegrad::{DType, Error, Tensor};

/// n samples whose label is their index.
fn indexed(n: usize) -> Dataset {
    let x = Tensor::arange(0.0, (3 * n) as f64, 1.0)
        .unwrap()
        .reshape([n, 3]);
    let y = Tensor::arange(0.0, n as f64, 1.0).unwrap();
    Dataset::new(x, y).unwrap()
}

fn epoch_labels(loader: &DataLoader<'_>, epoch: u64) -> Vec<Vec<usize>> {
    loader
        .epoch(epoch)
        .map(|(x, y)| {
            let ids: Vec<usize> = y.to_vec::<f32>().iter().map(|&v| v as usize).collect();
            // Features travel with their labels.
            let xs = x.to_vec::<f32>();
            for (r, &i) in ids.iter().enumerate() {
                assert_eq!(xs[3 * r], (3 * i) as f32);
            }
            ids
        })
        .collect()
}

#[test]
fn loader_covers_every_sample_once_per_epoch() {
    let ds = indexed(23);
    let loader = DataLoader::new(&ds, 5).unwrap().shuffle(11);
    assert_eq!(loader.num_batches(), 5);
    for epoch in 0..4 {
        let batches = epoch_labels(&loader, epoch);
        let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
        assert_eq!(sizes, [5, 5, 5, 5, 3]);
        let all: Vec<usize> = batches.concat();
        assert_eq!(all.len(), 23);
        assert_eq!(
            all.iter().copied().collect::<BTreeSet<_>>().len(),
            23,
            "a sample repeated"
        );
    }
    // Without shuffle the order is the dataset's.
    let plain = DataLoader::new(&ds, 10).unwrap();
    assert_eq!(
        epoch_labels(&plain, 3).concat(),
        (0..23).collect::<Vec<_>>()
    );
}

#[test]
fn shuffle_differs_per_epoch_and_repeats_per_seed() {
    let ds = indexed(50);
    let a = DataLoader::new(&ds, 8).unwrap().shuffle(1);
    let b = DataLoader::new(&ds, 8).unwrap().shuffle(1);
    let c = DataLoader::new(&ds, 8).unwrap().shuffle(2);
    let e0 = epoch_labels(&a, 0).concat();
    let e1 = epoch_labels(&a, 1).concat();
    assert_ne!(e0, (0..50).collect::<Vec<_>>(), "epoch 0 is shuffled");
    assert_ne!(e0, e1, "each epoch has its own order");
    // Same seed, same epoch: same order, even after iterating other epochs.
    let _ = epoch_labels(&b, 5);
    assert_eq!(epoch_labels(&b, 1).concat(), e1);
    assert_eq!(epoch_labels(&b, 0).concat(), e0);
    assert_ne!(
        epoch_labels(&c, 0).concat(),
        e0,
        "another seed, another order"
    );
}

#[test]
fn drop_last() {
    let ds = indexed(23);
    let loader = DataLoader::new(&ds, 5).unwrap().shuffle(3).drop_last(true);
    assert_eq!(loader.num_batches(), 4);
    let batches = epoch_labels(&loader, 0);
    assert_eq!(batches.len(), 4);
    assert!(batches.iter().all(|b| b.len() == 5));
    // The 20 kept are the first 20 of the same epoch's order.
    let full = DataLoader::new(&ds, 5).unwrap().shuffle(3);
    assert_eq!(batches.concat(), epoch_labels(&full, 0).concat()[..20]);
    // Exact multiple: nothing dropped.
    let even = indexed(20);
    assert_eq!(
        DataLoader::new(&even, 5)
            .unwrap()
            .drop_last(true)
            .epoch(0)
            .count(),
        4
    );
    // Fewer samples than a batch: no batches at all.
    let small = indexed(3);
    assert_eq!(
        DataLoader::new(&small, 5)
            .unwrap()
            .drop_last(true)
            .epoch(0)
            .count(),
        0
    );
    assert!(DataLoader::new(&ds, 0).is_err());
}

#[test]
fn reads_the_shipped_datasets() {
    for (name, rows, feats, classes) in [
        ("iris", 150, 4, 3),
        ("breast_cancer", 569, 30, 2),
        ("digits", 1797, 64, 10),
    ] {
        let t = read_csv(format!("data/{name}.csv"), "label", DType::F64).unwrap();
        assert_eq!(t.features.dims(), &[rows, feats], "{name}");
        assert_eq!(t.feature_names.len(), feats);
        assert_eq!(t.label_name, "label");
        let labels: BTreeSet<u64> = t.labels.to_vec::<f64>().iter().map(|&v| v as u64).collect();
        assert_eq!(labels, (0..classes).collect(), "{name}");
    }
    let iris = read_csv("data/iris.csv", "label", DType::F32).unwrap();
    assert_eq!(iris.features.dtype(), DType::F32);
    // The README's split: iris test part is 10/10/10.
    let (_, test) = iris.dataset().unwrap().split_at(120).unwrap();
    let mut counts = [0; 3];
    for v in test.labels().to_vec::<f32>() {
        counts[v as usize] += 1;
    }
    assert_eq!(counts, [10, 10, 10]);
}

#[test]
fn csv_errors_name_file_line_and_column() {
    let dir = std::env::temp_dir().join(format!("tapegrad-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("bad.csv");
    std::fs::write(&p, "a,b,label\n1,2,0\n3,4,1\n5,oops,1\n").unwrap();
    let e = read_csv(&p, "label", DType::F32).err().unwrap();
    assert!(matches!(e, Error::Format { op: "read_csv", .. }));
    let msg = e.to_string();
    assert!(
        msg.contains("bad.csv")
            && msg.contains("line 4, column 2 ('b')")
            && msg.contains("\"oops\""),
        "{msg}"
    );

    std::fs::write(&p, "a,b,label\n1,2,0\n3,4\n").unwrap();
    let msg = read_csv(&p, "label", DType::F32).err().unwrap().to_string();
    assert!(
        msg.contains("line 3: expected 3 fields as in the header, got 2"),
        "{msg}"
    );

    std::fs::write(&p, "a,b,label\n1,2,inf\n").unwrap();
    let msg = read_csv(&p, "label", DType::F32).err().unwrap().to_string();
    assert!(
        msg.contains("line 2, column 3 ('label')") && msg.contains("not finite"),
        "{msg}"
    );

    let msg = read_csv(&p, "target", DType::F32)
        .err()
        .unwrap()
        .to_string();
    assert!(msg.contains("line 1: no column named 'target'"), "{msg}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn standardisation_uses_train_statistics_only() {
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string("tests/fixtures/standardize_reference.json").unwrap(),
    )
    .unwrap();
    let floats = |v: &Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    for name in ["iris", "breast_cancer"] {
        let r = &reference[name];
        let n_train = r["n_train"].as_u64().unwrap() as usize;
        let ds = read_csv(format!("data/{name}.csv"), "label", DType::F64)
            .unwrap()
            .dataset()
            .unwrap();
        let (train, test) = ds.split_at(n_train).unwrap();
        let s = Standardizer::fit(train.features()).unwrap();
        for (got, want) in s.mean().iter().zip(floats(&r["mean"])) {
            assert!(
                (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                "{name} mean {got} vs numpy {want}"
            );
        }
        for (got, want) in s.std().iter().zip(floats(&r["std"])) {
            assert!(
                (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                "{name} std {got} vs numpy {want}"
            );
        }
        let test_std = s.transform(test.features()).unwrap().to_vec::<f64>();
        for (got, want) in test_std
            .iter()
            .zip(floats(&r["first_test_row_standardized"]))
        {
            assert!((got - want).abs() < 1e-9, "{name}: {got} vs {want}");
        }
        // Fitting on all rows (leaking the test part) gives other statistics.
        let leaky = Standardizer::fit(ds.features()).unwrap();
        assert_ne!(leaky.mean(), s.mean());
        // The training part comes out with mean 0 and population std 1.
        let t = s.transform(train.features()).unwrap();
        let f = t.dims()[1];
        let v = t.to_vec::<f64>();
        for c in 0..f {
            let col: Vec<f64> = v.iter().skip(c).step_by(f).copied().collect();
            let mean = col.iter().sum::<f64>() / col.len() as f64;
            let var = col.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / col.len() as f64;
            assert!(
                mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-9,
                "{name} column {c}"
            );
        }
    }
    // digits: pixel_0_0 is constant 0 on train → divided by 1, stays 0 everywhere.
    let digits = read_csv("data/digits.csv", "label", DType::F32)
        .unwrap()
        .dataset()
        .unwrap();
    let (train, test) = digits.split_at(1433).unwrap();
    let s = Standardizer::fit(train.features()).unwrap();
    assert_eq!((s.mean()[0], s.std()[0]), (0.0, 1.0));
    let t = s.transform(test.features()).unwrap().to_vec::<f32>();
    assert!(t.iter().step_by(64).all(|&v| v == 0.0));
    assert!(t.iter().all(|v| v.is_finite()));
}

#[test]
fn metrics() {
    let scores = Tensor::new([
        [0.1f32, 0.7, 0.2],
        [0.8, 0.1, 0.1],
        [0.3, 0.3, 0.4],
        [0.2, 0.5, 0.3],
    ]);
    let labels = Tensor::new([1.0f32, 0.0, 1.0, 1.0]);
    assert_eq!(accuracy(&scores, &labels).unwrap(), 0.75);
    let cm = confusion_matrix(&scores, &labels, 3).unwrap();
    assert_eq!(cm.rows(), vec![vec![1, 0, 0], vec![0, 2, 1], vec![0, 0, 0]]);
    assert_eq!(cm.get(1, 2), 1);
    assert_eq!(cm.total(), 4);
    let e = accuracy(&scores, &Tensor::new([1.0f32, 0.0])).unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { .. }));
    let e = confusion_matrix(&scores, &Tensor::new([1.0f32, 0.0, 3.0, 1.0]), 3).unwrap_err();
    assert!(
        e.to_string().contains("index 3") && e.to_string().contains("target 2"),
        "{e}"
    );
}
