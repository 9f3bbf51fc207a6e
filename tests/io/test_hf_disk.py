import datasets

from curate.io import input_files, iter_rows


def test_saved_dataset(tmp_path):
    ds = datasets.Dataset.from_list([{"instruction": "a", "output": "b"}, {"instruction": "c", "output": "d"}])
    ds.save_to_disk(str(tmp_path / "ds"))
    out = list(iter_rows(tmp_path / "ds"))
    assert [(r.file, r.line, r.data) for r in out] == [
        (str(tmp_path / "ds"), 1, {"instruction": "a", "output": "b"}),
        (str(tmp_path / "ds"), 2, {"instruction": "c", "output": "d"})]


def test_saved_dataset_dict_every_split(tmp_path):
    train = datasets.Dataset.from_list([{"x": 1}, {"x": 2}])
    test = datasets.Dataset.from_list([{"x": 3}])
    datasets.DatasetDict({"train": train, "test": test}).save_to_disk(str(tmp_path / "dd"))
    assert input_files(tmp_path / "dd") == [tmp_path / "dd" / "train", tmp_path / "dd" / "test"]
    out = list(iter_rows(tmp_path / "dd"))
    assert [(r.file, r.line, r.data) for r in out] == [
        (str(tmp_path / "dd" / "train"), 1, {"x": 1, "__split__": "train"}),
        (str(tmp_path / "dd" / "train"), 2, {"x": 2, "__split__": "train"}),
        (str(tmp_path / "dd" / "test"), 1, {"x": 3, "__split__": "test"})]


def test_dataset_inside_a_folder(tmp_path):
    datasets.Dataset.from_list([{"x": 1}]).save_to_disk(str(tmp_path / "data" / "ds"))
    (tmp_path / "data" / "a.jsonl").write_text('{"y": 1}\n')
    out = list(iter_rows(tmp_path / "data"))
    assert [r.data for r in out] == [{"y": 1}, {"x": 1}]
