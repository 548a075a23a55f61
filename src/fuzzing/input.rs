//! A reader that turns the fuzzer's bytes into choices, for the stateful targets.
//!
//! Why not the `arbitrary` crate: the library would gain a dependency only fuzzing uses, and the
//! stable corpus replay would need it too. Choices here are simple (a byte, a small number, a
//! slice), and running out of bytes reads zeros, so every input is a valid sequence.

/// Consumes the fuzzer's bytes front to back.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next byte, or 0 when the input is used up.
    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }

    pub fn bool(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    /// One of `n` choices (`n` > 0).
    pub fn choose(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n.max(1)
    }

    /// One of the items (the first when the input is used up).
    pub fn pick<'b, T>(&mut self, items: &'b [T]) -> &'b T {
        let index = self.choose(items.len());
        &items[index.min(items.len().saturating_sub(1))]
    }

    /// A length-prefixed slice of at most `max` bytes (shorter if the input runs out).
    pub fn bytes(&mut self, max: usize) -> &'a [u8] {
        let wanted = usize::from(self.byte()).min(max);
        let n = wanted.min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        head
    }

    /// A length-prefixed string (bytes read lossily as UTF-8).
    pub fn text(&mut self, max: usize) -> String {
        String::from_utf8_lossy(self.bytes(max)).into_owned()
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }
}
