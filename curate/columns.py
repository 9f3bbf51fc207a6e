"""Column names that stages write and the lower layers (dedup, export, report, argilla) read."""

DROP_REASON = "drop_reason"  # why a rejected row was removed
KEPT_ID = "kept_id"  # on a removed duplicate: the id of the record kept for it
DUP_CLUSTER = "dup_cluster"  # on every record of a duplicate cluster: the survivor's id
