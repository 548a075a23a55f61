use super::*;

fn set() -> PromptSet {
    let mut set = PromptSet::new();
    set.insert("a", (1..=100).collect::<Vec<i16>>());
    set.insert("b", vec![-7i16; 220]);
    set.insert("empty", Vec::<i16>::new());
    set
}

fn queue(ids: &[&str]) -> Queue {
    Queue::new(ids.iter().map(|s| s.to_string()).collect(), false)
}

/// Fills one frame, collecting skipped entries.
fn fill(q: &mut Queue, fed: &[i16], skipped: &mut Vec<String>) -> ([i16; 160], Filled) {
    let mut frame = [9i16; 160];
    let step = q.fill(&set(), fed, &mut frame, |id| skipped.push(id.to_string()));
    (frame, step)
}

#[test]
fn prompts_are_joined_sample_by_sample() {
    let mut q = queue(&["a", "b"]);
    let mut skipped = Vec::new();
    let (frame, step) = fill(&mut q, &[], &mut skipped);
    assert_eq!(step, Filled::Playing);
    assert_eq!((frame[0], frame[99]), (1, 100));
    assert!(frame[100..].iter().all(|&s| s == -7));
    // 220 - 60 = 160 samples of "b" remain: exactly one more frame, which finishes.
    let (frame, step) = fill(&mut q, &[], &mut skipped);
    assert_eq!(step, Filled::Finished);
    assert!(frame.iter().all(|&s| s == -7));
    assert!(skipped.is_empty());
}

#[test]
fn missing_and_empty_prompts_are_skipped_and_reported() {
    let mut q = queue(&["nope", "empty", "a", "gone"]);
    let mut skipped = Vec::new();
    let (frame, step) = fill(&mut q, &[], &mut skipped);
    assert_eq!(step, Filled::Finished);
    assert_eq!(skipped, vec!["nope".to_string(), "gone".to_string()]);
    assert_eq!(frame[99], 100);
    assert!(frame[100..].iter().all(|&s| s == 0));
}

#[test]
fn an_empty_queue_finishes_with_silence() {
    let (frame, step) = fill(&mut queue(&[]), &[], &mut Vec::new());
    assert_eq!(step, Filled::Finished);
    assert!(frame.iter().all(|&s| s == 0));
}

#[test]
fn a_recording_entry_is_streamed_between_prompts() {
    let mut q = queue(&["a", "recording:2026/x.wav", "b"]);
    let mut skipped = Vec::new();
    let (frame, step) = fill(&mut q, &[], &mut skipped);
    assert_eq!(step, Filled::Playing);
    assert_eq!(frame[99], 100);
    assert!(
        frame[100..].iter().all(|&s| s == 0),
        "silence while the file opens"
    );
    assert!(!q.wants_file());
    assert_eq!(q.take_file_request(), Some("2026/x.wav".to_string()));
    assert_eq!(q.take_file_request(), None);
    q.file_opened(true);
    assert!(q.wants_file());
    let (frame, step) = fill(&mut q, &[500; 160], &mut skipped);
    assert_eq!((frame, step), ([500; 160], Filled::Playing));
    // The file ends after 60 samples; "b" follows in the same frame.
    let (frame, step) = fill(&mut q, &[600; 60], &mut skipped);
    assert_eq!(step, Filled::Playing);
    assert!(frame[..60].iter().all(|&s| s == 600) && frame[60..].iter().all(|&s| s == -7));
    assert!(!q.wants_file());
    let (_, step) = fill(&mut q, &[], &mut skipped);
    assert_eq!(step, Filled::Finished);
    assert!(skipped.is_empty());
}

#[test]
fn a_recording_that_cannot_be_opened_or_is_never_answered_is_skipped() {
    let mut q = queue(&["recording:missing.wav", "recording:ignored.wav", "a"]);
    let mut skipped = Vec::new();
    fill(&mut q, &[], &mut skipped);
    assert_eq!(q.take_file_request(), Some("missing.wav".to_string()));
    q.file_opened(false);
    // Next tick goes straight on to the next entry: another recording nobody opens.
    let (_, step) = fill(&mut q, &[], &mut skipped);
    assert_eq!(step, Filled::Playing);
    let (frame, step) = fill(&mut q, &[], &mut skipped);
    assert_eq!(step, Filled::Finished);
    assert_eq!(frame[0], 1);
    assert_eq!(skipped, vec!["ignored.wav".to_string()]);
}

#[test]
fn looped_music_wraps_and_empty_music_is_silence() {
    let mut cursor = Cursor::new((0..100).collect::<Vec<i16>>().into());
    let mut frame = [0i16; 160];
    cursor.read_looped(&mut frame);
    assert_eq!((frame[99], frame[100], frame[159]), (99, 0, 59));
    cursor.read_looped(&mut frame);
    assert_eq!(frame[0], 60);
    let mut empty = Cursor::new(Vec::<i16>::new().into());
    frame.fill(3);
    empty.read_looped(&mut frame);
    assert!(frame.iter().all(|&s| s == 0));
}
