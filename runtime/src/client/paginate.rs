//! Pagination: a `Stream` of items over the pages of a list operation.
//! Generated code supplies how to fetch a page, how to find the next one
//! (a `Link` header, a cursor, a page token, an offset) and where the items
//! are.

use super::reply::{ApiError, Reply};
use super::CallSettings;
use futures_util::stream::{self, Stream, StreamExt};
use std::future::Future;

/// Items of every page, fetched lazily, one page at a time. The stream ends
/// after the last page, after an empty page (so a server that repeats its
/// cursor cannot loop forever), or after an error (yielded as an item).
pub fn paginate<O, P, I, E, F, Fut>(
    first: O,
    mut fetch: F,
    next: fn(&O, &Reply<P>) -> Option<O>,
    items: fn(P) -> Vec<I>,
) -> impl Stream<Item = Result<I, ApiError<E>>>
where
    F: FnMut(O) -> Fut,
    Fut: Future<Output = Result<Reply<P>, ApiError<E>>>,
    O: Clone,
{
    stream::unfold(Some(first), move |state| {
        let page = state.map(|options| {
            let fut = fetch(options.clone());
            (options, fut)
        });
        async move {
            let (options, fut) = page?;
            match fut.await {
                Ok(reply) => {
                    let following = next(&options, &reply);
                    let items = items(reply.value);
                    let following = following.filter(|_| !items.is_empty());
                    Some((items.into_iter().map(Ok).collect::<Vec<_>>(), following))
                }
                Err(e) => Some((vec![Err(e)], None)),
            }
        }
    })
    .flat_map(stream::iter)
}

/// The options of the page after `page`: these options with the URL of
/// its `Link: rel="next"` header (`None` on the last page). `call` reaches
/// the options' per-call settings.
pub fn next_link<O: Clone, P>(
    options: &O,
    page: &Reply<P>,
    call: fn(&mut O) -> &mut CallSettings,
) -> Option<O> {
    let url = page.link("next")?;
    let mut next = options.clone();
    call(&mut next).url = Some(url);
    Some(next)
}

/// The next offset: the current one plus the items received (`None` when
/// it does not fit the parameter's type).
pub fn next_offset<T>(current: Option<T>, received: usize) -> Option<T>
where
    T: TryInto<i64> + TryFrom<i64>,
{
    let now = match current {
        Some(c) => c.try_into().ok()?,
        None => 0,
    };
    T::try_from(now.checked_add(i64::try_from(received).ok()?)?).ok()
}
