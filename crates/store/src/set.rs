//! SetValue: placeholder shell; its owner replaces the representation.

/// A set value.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct SetValue {
    items: Vec<Vec<u8>>,
}

impl SetValue {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        "listpack"
    }

    /// Heap bytes owned by the value.
    pub fn heap_size(&self) -> usize {
        std::mem::size_of::<Self>() + self.items.iter().map(|i| i.capacity() + 24).sum::<usize>()
    }
}
