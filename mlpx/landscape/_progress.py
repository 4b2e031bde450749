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


class _PlainBar:
    """A count on stderr, about every tenth of the total (tqdm missing)."""

    def __init__(self, total, desc):
        self.total, self.desc, self.n = total, desc, 0
        self.step = max(1, total // 10)

    def update(self, n=1):
        self.n += n
        if self.n % self.step == 0 or self.n == self.total:
            print(f"{self.desc}: {self.n}/{self.total}", file=sys.stderr, flush=True)

    def close(self):
        pass


def progress_bar(total, desc):
    """A bar to advance by hand (``update(n)``, ``close()``) for work that
    reports its steps through a callback."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _PlainBar(total, desc)
    return tqdm(total=total, desc=desc, file=sys.stderr)
