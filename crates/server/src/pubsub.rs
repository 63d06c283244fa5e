//! Pub/Sub registry: which clients listen on which channels, patterns and shard
//! channels, in subscription order. Delivery writes straight into subscribers'
//! output buffers (see `commands::pubsub`).

use std::collections::HashMap;

#[derive(Default)]
pub struct PubSub {
    pub channels: HashMap<Vec<u8>, Vec<u64>>,
    pub patterns: HashMap<Vec<u8>, Vec<u64>>,
    pub shard_channels: HashMap<Vec<u8>, Vec<u64>>,
}

/// Which of the three subscription spaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Space {
    Channel,
    Pattern,
    Shard,
}

impl PubSub {
    fn map(&mut self, space: Space) -> &mut HashMap<Vec<u8>, Vec<u64>> {
        match space {
            Space::Channel => &mut self.channels,
            Space::Pattern => &mut self.patterns,
            Space::Shard => &mut self.shard_channels,
        }
    }

    pub fn add(&mut self, space: Space, name: &[u8], id: u64) {
        let ids = self.map(space).entry(name.to_vec()).or_default();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }

    pub fn remove(&mut self, space: Space, name: &[u8], id: u64) {
        let map = self.map(space);
        if let Some(ids) = map.get_mut(name) {
            ids.retain(|&c| c != id);
            if ids.is_empty() {
                map.remove(name);
            }
        }
    }

    /// PUBSUB NUMPAT: patterns with at least one subscriber.
    pub fn numpat(&self) -> usize {
        self.patterns.len()
    }
}
