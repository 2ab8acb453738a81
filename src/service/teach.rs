//! The queue's teach order (`order=informative`, the page's Teach tab): the pending comments
//! whose labels would change the serving model most, ranked by [`learning::teach_order`].

use crate::domain::Lang;
use crate::learning::retrain::site_labels_learned;
use crate::learning::{self, Candidate, TeachParams};
use crate::model::Model;
use crate::policy::Policy;
use crate::scoring;
use crate::store::{Page, QueueOrder, QueueQuery, StoreError, StoredComment};

use super::targets::not_yet_learned;
use super::App;

/// How many pending comments the teach order ranks at most: the oldest this many under the
/// query's filters. Each is run through the model again, so this bounds the work of a page.
pub const CANDIDATES: u32 = 500;

/// The teach order's one page: up to [`CANDIDATES`] pending comments (oldest first, under
/// the query's filters) ranked by [`rank`], the first `q.limit` of them. It has no next page:
/// the order changes with every decision, so a moderator decides these and asks again.
pub async fn informative(app: &App, q: &QueueQuery) -> Result<Page, StoreError> {
    let candidates = QueueQuery {
        order: QueueOrder::Oldest,
        limit: CANDIDATES,
        cursor: None,
        ..q.clone()
    };
    let items = app.store.queue(&candidates).await?.items;
    let model = app.model.load_full();
    let policy = app.policy.clone();
    let limit = q.limit as usize;
    // Vectorising hundreds of comments is CPU work: off the request threads.
    let ranked = tokio::task::spawn_blocking(move || rank(&model, &policy, items, limit)).await;
    match ranked {
        Ok(items) => Ok(Page { items, next: None }),
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(_) => Err(StoreError::Unavailable(
                "the service is shutting down".into(),
            )),
        },
    }
}

/// The first `k` of `items` in the teach order: each comment's feature row and head
/// probabilities from `model` (the serving one, whatever scored it at submission), each
/// head's uncertainty measured around its flag threshold in force (`policy` over the model's).
///
/// Comments toward a site target `model` has not learned are the most uncertain of all
/// about their stance: they take turns with the heads' picks, oldest first, so a new
/// target's labels come in alongside the others.
pub fn rank(
    model: &Model,
    policy: &Policy,
    items: Vec<StoredComment>,
    k: usize,
) -> Vec<StoredComment> {
    let (unlearned, items): (Vec<_>, Vec<_>) = items
        .into_iter()
        .partition(|c| not_yet_learned(model, c.target.as_deref()));
    let ranked = rank_heads(model, policy, items, k);
    take_turns(ranked, unlearned, k)
}

/// The first `k` of `a` and `b` alternately, `a` first, the rest of the longer one after.
fn take_turns<T>(a: Vec<T>, b: Vec<T>, k: usize) -> Vec<T> {
    let (mut a, mut b) = (a.into_iter(), b.into_iter());
    let mut out = Vec::with_capacity(k);
    while out.len() < k {
        match (a.next(), b.next()) {
            (None, None) => break,
            (x, y) => out.extend(x.into_iter().chain(y)),
        }
    }
    out.truncate(k);
    out
}

/// The heads' teach order of `items` (see [`rank`]).
fn rank_heads(
    model: &Model,
    policy: &Policy,
    items: Vec<StoredComment>,
    k: usize,
) -> Vec<StoredComment> {
    let passes: Vec<scoring::Pass> = items
        .iter()
        .map(|c| scoring::run(model, &c.text, c.lang.parse::<Lang>().ok()))
        .collect();
    let candidates: Vec<Candidate> = items
        .iter()
        .zip(&passes)
        .map(|(c, p)| Candidate {
            key: &c.id,
            row: &p.analysis.row,
            probabilities: &p.probs,
        })
        .collect();
    let params = TeachParams {
        thresholds: (0..model.card.heads.len())
            .map(|i| policy.thresholds(&model.card, i).flag)
            .collect(),
        learned: site_labels_learned(model),
        ..TeachParams::default()
    };
    let order = learning::teach_order(&candidates, k, &params);
    let mut items: Vec<Option<StoredComment>> = items.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| items[i].take()).collect()
}

#[cfg(test)]
mod tests {
    use super::take_turns;

    #[test]
    fn turns_alternate_and_stop_at_k() {
        assert_eq!(
            take_turns(vec![1, 2, 3], vec![10, 20], 10),
            [1, 10, 2, 20, 3]
        );
        assert_eq!(take_turns(vec![1], vec![10, 20, 30], 3), [1, 10, 20]);
        assert_eq!(take_turns(vec![1, 2], vec![10, 20], 3), [1, 10, 2]);
        assert_eq!(take_turns(Vec::<i32>::new(), vec![], 3), Vec::<i32>::new());
    }
}
