//! Recursive types: a type that contains itself directly needs a `Box`, and a
//! type alias that reaches itself (`type Tree = Vec<Tree>`) is not allowed in
//! Rust at all, so such aliases become newtypes.

use super::{Ty, TypeId, TypeKind, TypeSet};

/// Rewrites `set` so that every cycle of types compiles.
pub(super) fn break_cycles(set: &mut TypeSet) {
    // 1. Aliases on any cycle (through containers too) become newtypes.
    let all = components(set, false);
    for (i, def) in set.types.iter_mut().enumerate() {
        if let TypeKind::Alias(ty) = &def.kind {
            if all.on_cycle[i] {
                def.kind = TypeKind::Newtype(ty.clone());
            }
        }
    }
    // 2. Direct references (not through Vec/Map) within one cycle get boxed.
    let direct = components(set, true);
    for i in 0..set.types.len() {
        let here = direct.component[i];
        let boxed = |ty: &mut Ty| box_direct(ty, &|id| direct.component[id.0] == here);
        match &mut set.types[i].kind {
            TypeKind::Struct(s) => {
                for f in &mut s.fields {
                    boxed(&mut f.ty);
                }
            }
            TypeKind::Union(u) => {
                for v in &mut u.variants {
                    boxed(&mut v.ty);
                }
            }
            TypeKind::Newtype(ty) => boxed(ty),
            TypeKind::Alias(_) | TypeKind::Enum(_) => {}
        }
    }
}

fn box_direct(ty: &mut Ty, same_cycle: &dyn Fn(TypeId) -> bool) {
    match ty {
        Ty::Named(id) if same_cycle(*id) => *ty = Ty::Boxed(*id),
        Ty::Option(inner) => box_direct(inner, same_cycle),
        _ => {}
    }
}

/// Type ids a type refers to; `direct` leaves out references through
/// containers that already allocate (Vec, Map).
fn edges(kind: &TypeKind, direct: bool, out: &mut Vec<usize>) {
    fn walk(ty: &Ty, direct: bool, out: &mut Vec<usize>) {
        match ty {
            Ty::Named(id) | Ty::Boxed(id) => out.push(id.0),
            Ty::Option(inner) => walk(inner, direct, out),
            Ty::Vec(inner) | Ty::Map(inner) if !direct => walk(inner, direct, out),
            _ => {}
        }
    }
    match kind {
        TypeKind::Struct(s) => {
            for f in &s.fields {
                walk(&f.ty, direct, out);
            }
            if let Some(extra) = &s.extra {
                if !direct {
                    walk(extra, direct, out);
                }
            }
        }
        TypeKind::Union(u) => u.variants.iter().for_each(|v| walk(&v.ty, direct, out)),
        TypeKind::Alias(ty) | TypeKind::Newtype(ty) => walk(ty, direct, out),
        TypeKind::Enum(_) => {}
    }
}

struct Components {
    component: Vec<usize>,
    on_cycle: Vec<bool>,
}

/// Strongly connected components (iterative Tarjan, so deep specs cannot
/// overflow the stack).
fn components(set: &TypeSet, direct: bool) -> Components {
    let n = set.types.len();
    let graph: Vec<Vec<usize>> = set
        .types
        .iter()
        .map(|t| {
            let mut out = Vec::new();
            edges(&t.kind, direct, &mut out);
            out
        })
        .collect();
    const UNSEEN: usize = usize::MAX;
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut component = vec![UNSEEN; n];
    let mut on_cycle = vec![false; n];
    let mut next_index = 0;
    let mut next_component = 0;
    for root in 0..n {
        if index[root] != UNSEEN {
            continue;
        }
        // Frames of (node, next edge to visit).
        let mut frames = vec![(root, 0usize)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut edge)) = frames.last_mut() {
            if let Some(&w) = graph[v].get(*edge) {
                *edge += 1;
                if index[w] == UNSEEN {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    frames.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            frames.pop();
            if let Some(&(parent, _)) = frames.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut members = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component[w] = next_component;
                    members.push(w);
                    if w == v {
                        break;
                    }
                }
                let cyclic = members.len() > 1 || graph[v].contains(&v);
                for w in members {
                    on_cycle[w] = cyclic;
                }
                next_component += 1;
            }
        }
    }
    Components {
        component,
        on_cycle,
    }
}
