"""`minqing personal-data rehash`: compute the ID-number look-up digests again under the current key."""
from __future__ import annotations

import click
from sqlalchemy import func, select
from tqdm import tqdm

from minqing.core.models import Resident
from minqing.core.settings import lookup_key


@click.group("personal-data")
def personal_data_command() -> None:
    """Personal data: the keyed digests that look residents up by ID number."""


@personal_data_command.command("rehash")
@click.pass_obj
def rehash_command(context) -> None:
    """Compute every resident's look-up digest again (after MINQING_LOOKUP_KEY or MINQING_SECRET_KEY changed)."""
    from minqing.core.privacy.id_lookup import rehash

    platform = context.platform
    with platform.db.session() as session:
        key, total = lookup_key(session), session.scalar(select(func.count()).select_from(Resident))
        session.commit()  # a derived key may have created the secret key row
    with platform.db.engine.begin() as connection, tqdm(total=total, desc="重算摘要", unit="人") as bar:
        done = rehash(connection, key, progress=bar.update)
    click.echo(f"已按当前密钥重算 {done} 名实有人口的身份证号查找摘要")
