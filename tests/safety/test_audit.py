import polars as pl

from curate.safety.audit import balance_mask, group_audit


def frame(groups, tox, attack=None):
    return pl.DataFrame({
        "id": [f"r{i}" for i in range(len(groups))],
        "bias_groups": groups,
        "toxicity": tox,
        "identity_attack": attack if attack is not None else [None] * len(groups),
    }, schema_overrides={"bias_groups": pl.List(pl.String), "identity_attack": pl.Float64})


def removed(*pairs):
    return pl.DataFrame({"id": [i for i, _ in pairs], "drop_reason": [r for _, r in pairs]},
                        schema={"id": pl.String, "drop_reason": pl.String})


def test_group_audit_counts_shares_rates_and_removals():
    df = frame([["age/older"], ["age/older", "age/young"], ["gender/women"], [], []],
               [0.9, 0.1, 0.2, 0.0, 0.7], [0.8, 0.0, 0.1, 0.0, 0.0])
    gone = removed(("r0", "toxic"), ("r4", "duplicate_exact"))
    out = df.filter(~pl.col("id").is_in(["r0", "r4"]))["bias_groups"]
    audit = group_audit(df, gone, out, toxic_above=0.5, min_records=1)
    assert audit["overall"] == {
        "records_in": 5, "toxic_rate_in": 0.4, "mean_toxicity_in": 0.38,
        "identity_attack_rate_in": 0.2, "records_out": 3, "removed_rate": 0.4,
        "removed_by": {"duplicate_exact": 1, "toxic": 1}}
    older = audit["groups"]["age/older"]
    assert older == {
        "records_in": 2, "share_in": 1.0, "share_of_records_in": 0.4, "toxic_rate_in": 0.5,
        "mean_toxicity_in": 0.5, "identity_attack_rate_in": 0.5, "records_out": 1,
        "share_out": 1.0, "removed_rate": 0.5, "removed_by": {"toxic": 1},
        "removal_ratio": 1.25, "flags": []}
    assert audit["groups"]["age/young"]["share_in"] == 0.5
    women = audit["groups"]["gender/women"]
    assert (women["removed_rate"], women["removal_ratio"], women["removed_by"]) == (0.0, 0.0, {})


def test_flags_need_a_disparity_and_enough_records():
    # 40 neutral records of which 4 removed (10%); 20 of group a, 10 removed (50%: ratio 5)
    groups = [["x/a"]] * 20 + [["x/b"]] * 20 + [[]] * 40
    tox = [0.9] * 10 + [0.0] * 70
    df = frame(groups, tox)
    gone = removed(*[(f"r{i}", "toxic") for i in range(10)],
                   *[(f"r{i}", "too_short") for i in range(40, 44)])
    out = df.filter(~pl.col("id").is_in(gone["id"].implode()))["bias_groups"]
    audit = group_audit(df, gone, out, toxic_above=0.5, disparity_max=1.5, min_records=20)
    a, b = audit["groups"]["x/a"], audit["groups"]["x/b"]
    assert audit["overall"]["removed_rate"] == 14 / 80
    assert a["removal_ratio"] == round(0.5 / (14 / 80), 6)
    assert a["flags"] == ["over_removed", "often_toxic"] and b["flags"] == []
    assert (a["share_in"], a["share_out"]) == (0.5, round(10 / 30, 6))
    small = group_audit(df, gone, out, toxic_above=0.5, min_records=21)
    assert small["groups"]["x/a"]["flags"] == []


def test_identity_attack_rate_is_null_when_not_scored():
    audit = group_audit(frame([["age/older"]], [0.9]), removed(), pl.Series([["age/older"]]),
                        toxic_above=0.5)
    assert audit["groups"]["age/older"]["identity_attack_rate_in"] is None
    assert audit["overall"]["identity_attack_rate_in"] is None
    assert audit["overall"]["removed_rate"] == 0.0
    assert audit["groups"]["age/older"]["removal_ratio"] is None  # nothing removed at all


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
