import polars as pl

from curate.safety.audit import balance_mask, group_table


def frame(groups, tox, attack=None):
    return pl.DataFrame({
        "id": [f"r{i}" for i in range(len(groups))],
        "bias_groups": groups,
        "toxicity": tox,
        "identity_attack": attack if attack is not None else [None] * len(groups),
    }, schema_overrides={"bias_groups": pl.List(pl.String), "identity_attack": pl.Float64})


def test_group_table_counts_shares_and_rates():
    df = frame([["age/older"], ["age/older", "age/young"], ["gender/women"], [], []],
               [0.9, 0.1, 0.2, 0.0, 0.7], [0.8, 0.0, 0.1, 0.0, 0.0])
    table = group_table(df, toxic_above=0.5)
    assert table == {
        "age/older": {"records": 2, "share": 1.0, "share_of_records": 0.4, "toxic_rate": 0.5,
                      "mean_toxicity": 0.5, "identity_attack_rate": 0.5},
        "age/young": {"records": 1, "share": 0.5, "share_of_records": 0.2, "toxic_rate": 0.0,
                      "mean_toxicity": 0.1, "identity_attack_rate": 0.0},
        "gender/women": {"records": 1, "share": 1.0, "share_of_records": 0.2,
                         "toxic_rate": 0.0, "mean_toxicity": 0.2, "identity_attack_rate": 0.0},
    }
    empty = group_table(df.head(0), toxic_above=0.5, keys=["age/older"])
    assert empty == {"age/older": {"records": 0, "share": 0.0, "share_of_records": 0.0,
                                   "toxic_rate": None, "mean_toxicity": None,
                                   "identity_attack_rate": None}}


def test_identity_attack_rate_is_null_when_not_scored():
    table = group_table(frame([["age/older"]], [0.9]), toxic_above=0.5)
    assert table["age/older"]["identity_attack_rate"] is None


def test_balance_drops_the_most_toxic_rows_of_the_largest_group():
    # women 6, men 2 in gender: cap 0.6 -> women may keep 3 (3 / 5 = 0.6)
    groups = [["gender/women"]] * 6 + [["gender/men"]] * 2 + [["age/older"]]
    tox = [0.1, 0.5, 0.2, 0.4, 0.0, 0.3, 0.9, 0.9, 0.9]
    drop = balance_mask(frame(groups, tox), cap=0.6)
    assert drop.to_list() == [False, True, False, True, False, True, False, False, False]


def test_balance_never_cuts_below_an_even_split():
    groups = [["religion/jews"]] * 2 + [["religion/muslims"]] * 2 + [["religion/hindus"]]
    drop = balance_mask(frame(groups, [0.0] * 5), cap=0.2)   # 3 groups: cap becomes 1/3
    assert drop.sum() == 2
    kept = [g[0] for g, d in zip(groups, drop.to_list()) if not d]
    assert sorted(kept) == ["religion/hindus", "religion/jews", "religion/muslims"]
