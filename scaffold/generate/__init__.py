"""spec -> plan -> render -> format -> write."""
