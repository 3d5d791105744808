//! Training data without end: SAS images simulated on a background thread
//! while a network trains ([`Codec::train_streaming`](crate::Codec::train_streaming)).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::thread::JoinHandle;

use sae_model::{ModelError, SampleSource};
use sae_sas::{DatasetConfig, Detector, ImageParams, View};

/// Images per message from the simulating thread.
const CHUNK: usize = 64;
/// Messages the simulating thread may run ahead of the trainer before it waits.
const QUEUE: usize = 64;

/// Fresh SAS images from `sae-sas`, simulated one at a time on a dedicated
/// thread (so the trainer keeps its own threads), drawn from a
/// [`DatasetConfig`]'s parameter ranges with seeds that never repeat a
/// pool drawn with [`DatasetConfig::generate`] and the same `seed`.
///
/// ```
/// use sae_codec::SimulatedImages;
/// use sae_codec::sae_model::SampleSource;
/// use sae_codec::sae_sas::{DatasetConfig, Detector};
///
/// let detector = Detector { npix: 8, oversample: 1, ..Detector::default() };
/// let mut source = SimulatedImages::spawn(DatasetConfig::default(), detector, 3);
/// let mut images = Vec::new();
/// while images.len() < 2 * 64 {
///     images.extend(source.take_ready()?);
///     std::thread::yield_now();
/// }
/// assert_eq!(images.len() % 64, 0);
/// assert!(source.produced() >= 2);
/// # Ok::<(), sae_codec::ModelError>(())
/// ```
#[derive(Debug)]
pub struct SimulatedImages {
    receiver: Receiver<Result<Vec<f32>, String>>,
    stop: Arc<AtomicBool>,
    produced: Arc<AtomicU64>,
    worker: Option<JoinHandle<()>>,
    /// Why the simulating thread ended, once it has.
    ended: Option<String>,
}

impl SimulatedImages {
    /// Starts simulating images of `detector` drawn from `config`; the
    /// stream is a pure function of `seed`. Every image is a fresh simulation.
    pub fn spawn(config: DatasetConfig, detector: Detector, seed: u64) -> Self {
        Self::spawn_with(move |chunk, stop, produced| {
            let mut images = Vec::with_capacity(CHUNK * detector.npix * detector.npix);
            for params in config.sample(CHUNK, chunk_seed(seed, chunk)) {
                if stop.load(Ordering::Relaxed) {
                    return Ok(None);
                }
                images.extend(params_image(&params, &detector)?);
                produced.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Some(images))
        })
    }

    /// As [`spawn`](Self::spawn), but each simulation of an oriented particle
    /// yields its four distinct [`View`]s (the same particle turned about the
    /// beam or mirrored: valid patterns in their own right, and as likely
    /// under `config`'s ranges, whose in-plane angles are uniform), about
    /// four images for the cost of one. An isotropic particle's views are
    /// all the image itself, so each isotropic simulation is followed by
    /// three more of isotropic particles (drawn from `config` and the
    /// oriented draws set aside): the models' mix in the stream stays
    /// `config`'s. Chunks hold [`CHUNK`] images or a few more (whole groups).
    pub fn spawn_views(config: DatasetConfig, detector: Detector, seed: u64) -> Self {
        Self::spawn_with(move |chunk, stop, produced| {
            let n = detector.npix;
            let mut images = Vec::with_capacity((CHUNK + View::ALL.len()) * n * n);
            let mut owed_isotropic = 0usize;
            let mut draw = 0u64;
            while images.len() < CHUNK * n * n || owed_isotropic > 0 {
                let seed = chunk_seed(seed, chunk) ^ draw.wrapping_mul(0xD6E8_FEB8_6659_FD93);
                draw += 1;
                let Some(params) = config.sample(1, seed).pop() else {
                    return Err("the dataset draws no parameters".into());
                };
                if stop.load(Ordering::Relaxed) {
                    return Ok(None);
                }
                let scatterer = params.to_scatterer().map_err(|e| e.to_string())?;
                let oriented = scatterer.shape.is_oriented();
                if owed_isotropic > 0 && oriented {
                    continue; // set aside: an isotropic draw is owed
                }
                let image = detector.image(&scatterer).map_err(|e| e.to_string())?;
                produced.fetch_add(1, Ordering::Relaxed);
                if oriented {
                    for view in View::ALL {
                        images.extend(view.apply(n, &image));
                    }
                } else {
                    images.extend(image);
                    owed_isotropic = match owed_isotropic {
                        0 => View::ALL.len() - 1,
                        owed => owed - 1,
                    };
                }
            }
            Ok(Some(images))
        })
    }

    /// Runs `make(chunk, stop, produced)` for chunks 0, 1, … on the
    /// simulating thread and sends each result; `Ok(None)` means stopped.
    fn spawn_with(
        mut make: impl FnMut(u64, &AtomicBool, &AtomicU64) -> Result<Option<Vec<f32>>, String> + Send + 'static,
    ) -> Self {
        let (sender, receiver) = sync_channel(QUEUE);
        let stop = Arc::new(AtomicBool::new(false));
        let produced = Arc::new(AtomicU64::new(0));
        let worker = {
            let (stop, produced) = (Arc::clone(&stop), Arc::clone(&produced));
            std::thread::Builder::new()
                .name("sae-simulate".into())
                .spawn(move || work(&mut make, &sender, &stop, &produced))
                .ok()
        };
        Self {
            receiver,
            stop,
            produced,
            worker,
            ended: None,
        }
    }

    /// Simulations run so far (their images taken or waiting).
    pub fn produced(&self) -> u64 {
        self.produced.load(Ordering::Relaxed)
    }

    /// Why the simulating thread is gone when the channel closed: it
    /// panicked, could not start, or stopped with nothing more to give.
    /// Never "no more images" in silence: the trainer would go on with a
    /// stale pool.
    fn gone(&mut self) -> ModelError {
        if let Some(reason) = &self.ended {
            return ModelError::Source {
                reason: reason.clone(),
            };
        }
        let reason = match self.worker.take() {
            None => "the simulating thread could not be started".to_string(),
            Some(worker) => match worker.join() {
                Err(panic) => {
                    let message = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "no message".into());
                    format!("the simulating thread panicked: {message}")
                }
                Ok(()) => "the simulating thread stopped".to_string(),
            },
        };
        self.ended = Some(reason.clone());
        ModelError::Source { reason }
    }
}

fn work(
    make: &mut impl FnMut(u64, &AtomicBool, &AtomicU64) -> Result<Option<Vec<f32>>, String>,
    sender: &SyncSender<Result<Vec<f32>, String>>,
    stop: &AtomicBool,
    produced: &AtomicU64,
) {
    for chunk in 0u64.. {
        let message = match make(chunk, stop, produced) {
            Ok(Some(images)) => Ok(images),
            Ok(None) => return,
            Err(e) => Err(e),
        };
        let failed = message.is_err();
        if sender.send(message).is_err() || failed {
            return; // the trainer is gone, or told why this thread ends
        }
    }
}

/// A seed stream per chunk, apart from the pools `generate(count, seed)` draws.
fn chunk_seed(seed: u64, chunk: u64) -> u64 {
    seed ^ 0x5EED_57EA_0000_0000 ^ chunk.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

fn params_image(params: &ImageParams, detector: &Detector) -> Result<Vec<f32>, String> {
    let scatterer = params.to_scatterer().map_err(|e| e.to_string())?;
    detector.image(&scatterer).map_err(|e| e.to_string())
}

impl SampleSource for SimulatedImages {
    fn take_ready(&mut self) -> sae_model::Result<Vec<f32>> {
        let mut out = Vec::new();
        loop {
            match self.receiver.try_recv() {
                Ok(Ok(images)) => out.extend(images),
                Ok(Err(reason)) => return Err(ModelError::Source { reason }),
                Err(TryRecvError::Empty) => return Ok(out),
                Err(TryRecvError::Disconnected) => return Err(self.gone()),
            }
        }
    }

    /// Waits for the next chunk of [`CHUNK`] images.
    fn take_next(&mut self) -> sae_model::Result<Vec<f32>> {
        match self.receiver.recv() {
            Ok(Ok(images)) => Ok(images),
            Ok(Err(reason)) => Err(ModelError::Source { reason }),
            Err(_) => Err(self.gone()),
        }
    }
}

impl Drop for SimulatedImages {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Unblock a worker waiting on a full queue, then wait for it.
        while self.receiver.try_recv().is_ok() {}
        if let Some(worker) = self.worker.take() {
            while !worker.is_finished() {
                while self.receiver.try_recv().is_ok() {}
                std::thread::yield_now();
            }
            let _ = worker.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_that_dies_is_an_error_not_a_stale_pool() {
        let mut source = SimulatedImages::spawn_with(|chunk, _, _| {
            assert!(chunk < 1, "simulator bug in chunk {chunk}");
            Ok(Some(vec![1.0; 4]))
        });
        assert_eq!(source.take_next().unwrap(), [1.0; 4]);
        let error = source.take_next().unwrap_err().to_string();
        assert!(error.contains("panicked: simulator bug in chunk 1"), "{error}");
        // Still the same error after.
        assert_eq!(source.take_ready().unwrap_err().to_string(), error);

        let mut source = SimulatedImages::spawn_with(|_, _, _| Err("bad parameters".into()));
        assert_eq!(
            source.take_next().unwrap_err().to_string(),
            "sample source: bad parameters"
        );
        let mut source = SimulatedImages::spawn_with(|_, _, _| Ok(None));
        let error = source.take_next().unwrap_err().to_string();
        assert!(error.contains("stopped"), "{error}");
    }

    #[test]
    fn next_chunks_are_whole_and_in_order() {
        let detector = Detector {
            npix: 8,
            oversample: 1,
            ..Detector::default()
        };
        let mut source = SimulatedImages::spawn(DatasetConfig::default(), detector.clone(), 5);
        let first = source.take_next().unwrap();
        assert_eq!(first.len(), CHUNK * 64);
        let mut again = SimulatedImages::spawn(DatasetConfig::default(), detector, 5);
        assert_eq!(again.take_next().unwrap(), first);
        assert_ne!(source.take_next().unwrap(), first);
    }

    #[test]
    fn stream_is_seeded_and_apart_from_generated_pools() {
        let detector = Detector {
            npix: 8,
            oversample: 1,
            ..Detector::default()
        };
        let config = DatasetConfig::default();
        let take = |seed| {
            let mut source = SimulatedImages::spawn(config.clone(), detector.clone(), seed);
            let mut images = Vec::new();
            while images.len() < CHUNK * 64 {
                images.extend(source.take_ready().unwrap());
                std::thread::yield_now();
            }
            images.truncate(CHUNK * 64);
            images
        };
        let a = take(5);
        assert_eq!(a, take(5));
        assert_ne!(a, take(6));
        let (pool, _) = config.generate(CHUNK, 5, &detector).unwrap();
        assert_ne!(&a[..64], &pool[..64]);
        assert!(a.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn views_come_in_groups_of_four_and_the_stream_is_seeded() {
        let detector = Detector {
            npix: 8,
            oversample: 1,
            ..Detector::default()
        };
        let n = detector.npix;
        let mut source = SimulatedImages::spawn_views(DatasetConfig::default(), detector.clone(), 5);
        let chunk = source.take_next().unwrap();
        assert!(chunk.len() >= CHUNK * n * n && chunk.len().is_multiple_of(n * n));
        let mut again = SimulatedImages::spawn_views(DatasetConfig::default(), detector.clone(), 5);
        assert_eq!(again.take_next().unwrap(), chunk);
        assert!(chunk.iter().all(|v| v.is_finite()));
        // Each image opens a group of its four views (an oriented particle) or
        // is its own views (an isotropic one, alone).
        let images: Vec<&[f32]> = chunk.chunks(n * n).collect();
        let (mut i, mut groups, mut singles) = (0, 0, 0);
        while i < images.len() {
            let views: Vec<Vec<f32>> = View::ALL.iter().map(|v| v.apply(n, images[i])).collect();
            if views.iter().all(|v| v == images[i]) {
                singles += 1;
                i += 1;
            } else {
                for (k, view) in views.iter().enumerate() {
                    assert_eq!(
                        images[i + k],
                        &view[..],
                        "image {} is view {k} of image {i}",
                        i + k
                    );
                }
                groups += 1;
                i += View::ALL.len();
            }
        }
        assert!(
            groups > 0 && singles > 0,
            "{groups} groups, {singles} single images"
        );
        // One simulation per group and per single image (the thread may
        // already be further on).
        assert!(source.produced() >= (groups + singles) as u64);
        assert!(groups + singles < images.len());
    }
}
