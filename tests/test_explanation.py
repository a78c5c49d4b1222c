from postkind.explanation import explain, feature_weights, top_features_per_label


def test_explain_lists_features_towards_each_label(tiny_model):
    result = explain("@sam thanks, see you tomorrow!", model=tiny_model, k=3)
    assert result["label"] == "conversational"
    towards = result["towards"]
    assert 0 < len(towards["conversational"]) <= 3
    assert all(weight > 0 for _, weight in towards["conversational"] + towards["broadcast"])
    weights = [w for _, w in towards["conversational"]]
    assert weights == sorted(weights, reverse=True)


def test_feature_weights_sign_matches_the_label(tiny_model):
    names, weights = feature_weights(tiny_model)
    assert len(names) == len(weights)
    top = top_features_per_label(tiny_model, k=5)
    assert all(w > 0 for _, w in top["conversational"])
    assert all(w < 0 for _, w in top["broadcast"])
