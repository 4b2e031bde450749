"""A progress bar over finished tasks (tqdm, an optional dependency)."""

import sys


def progress(iterable, total, desc):
    """Wrap `iterable` in a tqdm bar on stderr; without tqdm, a plain count."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _plain(iterable, total, desc)
    return tqdm(iterable, total=total, desc=desc, file=sys.stderr)


def _plain(iterable, total, desc):
    for i, item in enumerate(iterable, 1):
        print(f"{desc}: {i}/{total}", file=sys.stderr, flush=True)
        yield item
