"""`export_catalogue`: the whole catalogue as bulk files that `paperboy import` reads back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

from sqlalchemy import Engine

from paperboy.integrations.bulk_writer import listing_lines, listings_header, paper_line
from paperboy.storage.export import paper_batches


@dataclass(slots=True)
class ExportReport:
    papers: int = 0
    listings: int = 0

    def summary(self) -> str:
        return f"{self.papers} papers and {self.listings} listings exported"


def export_catalogue(
    engine: Engine, papers_out: IO[bytes], listings_out: IO[bytes] | None = None, *, batch_size: int = 2000
) -> ExportReport:
    """Stream every paper (JSON lines) and, when `listings_out` is given, every listing (TSV).

    One connection reads the batches: on SQLite its snapshot makes the files consistent; on
    PostgreSQL each batch sees the papers committed before it.
    """
    report = ExportReport()
    if listings_out is not None:
        listings_out.write(listings_header())
    with engine.connect() as conn:
        for batch in paper_batches(conn, batch_size):
            papers_out.write(b"".join(paper_line(paper) for paper in batch))
            report.papers += len(batch)
            if listings_out is not None:
                listings_out.write(b"".join(listing_lines(paper) for paper in batch))
                report.listings += sum(len(paper.listings) for paper in batch)
    return report
