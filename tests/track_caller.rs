//! The plain (panicking) form of an op must report the caller's line, not a
//! line inside tapegrad. A panic hook is process-wide, so this file holds a
//! single test.

use std::sync::{Arc, Mutex};

use tapegrad::Tensor;

#[test]
fn panics_point_at_the_callers_line() {
    let seen: Arc<Mutex<Vec<(String, u32, String)>>> = Arc::default();
    let sink = seen.clone();
    std::panic::set_hook(Box::new(move |info| {
        let loc = info.location().unwrap();
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        sink.lock()
            .unwrap()
            .push((loc.file().to_string(), loc.line(), msg));
    }));
    let a = Tensor::zeros([2, 3]);
    let b = Tensor::zeros([4]);
    let line_op = line!() + 1;
    let r1 = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| &a + &b));
    let line_method = line!() + 1;
    let r2 = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| a.sum_dim(5, false)));
    let _ = std::panic::take_hook();
    assert!(r1.is_err() && r2.is_err());
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].0, file!());
    assert_eq!(seen[0].1, line_op);
    assert_eq!(
        seen[0].2,
        "add: shapes [2, 3] and [4] cannot be broadcast together"
    );
    assert_eq!(seen[1].0, file!());
    assert_eq!(seen[1].1, line_method);
    assert!(seen[1]
        .2
        .contains("dim 5 is out of range for a tensor of rank 2"));
}
