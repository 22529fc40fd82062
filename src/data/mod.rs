//! Data handling: in-memory [`Dataset`]s, a batching [`DataLoader`], a CSV
//! reader for numeric tables, train/test splits, standardisation, and
//! classification metrics.
//!
//! ```
//! use tapegrad::data::{read_csv, DataLoader, Standardizer};
//! use tapegrad::DType;
//! let table = read_csv("data/iris.csv", "label", DType::F32).unwrap();
//! let (train, test) = table.dataset().unwrap().split_at(120).unwrap();
//! let scaler = Standardizer::fit(train.features()).unwrap();
//! let train = train.map_features(|x| scaler.transform(x)).unwrap();
//! let test = test.map_features(|x| scaler.transform(x)).unwrap();
//! let loader = DataLoader::new(&train, 32).unwrap().shuffle(7);
//! let batches: Vec<_> = loader.epoch(0).collect();
//! assert_eq!(batches.len(), 4); // 32 + 32 + 32 + 24
//! assert_eq!(test.len(), 30);
//! ```

mod csv;
mod dataset;
mod loader;
mod metrics;
mod preprocess;

pub use csv::{parse_csv, read_csv, CsvTable};
pub use dataset::{train_test_split, Dataset};
pub use loader::{Batches, DataLoader};
pub use metrics::{
    accuracy, binary_accuracy, confusion_matrix, one_hot, predicted_classes, ConfusionMatrix,
};
pub use preprocess::Standardizer;
