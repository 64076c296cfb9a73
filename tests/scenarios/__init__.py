"""Whole user stories, run through the installed `paperboy` command against local fakes."""
