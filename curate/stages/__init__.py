"""Pipeline stages: one module per stage family, registered by id in ``registry``."""
