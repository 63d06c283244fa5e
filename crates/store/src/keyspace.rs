//! All databases of a node, with the operations that span them.

use crate::db::Db;

pub struct Keyspace {
    pub dbs: Vec<Db>,
}

impl Keyspace {
    pub fn new(databases: usize) -> Self {
        Keyspace {
            dbs: (0..databases.max(1)).map(|_| Db::new()).collect(),
        }
    }

    pub fn db(&mut self, index: usize) -> &mut Db {
        &mut self.dbs[index]
    }

    /// Total keys in all databases.
    pub fn total_keys(&self) -> usize {
        self.dbs.iter().map(|d| d.len()).sum()
    }

    /// SWAPDB.
    pub fn swap(&mut self, a: usize, b: usize) {
        self.dbs.swap(a, b);
    }

    /// Empties every database, returning the old contents for off-thread freeing.
    pub fn take_all(&mut self) -> Vec<Db> {
        self.dbs.iter_mut().map(|d| d.take_all()).collect()
    }
}
