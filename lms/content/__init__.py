"""The course as files: loading, validating and rendering modules."""

from flask import current_app

from lms.content.loader import ContentError, Course, Module, Problem, check_course, load_course

__all__ = [
    "ContentError",
    "Course",
    "Module",
    "Problem",
    "check_course",
    "get_course",
    "load_course",
    "reload_course",
]


def get_course() -> Course:
    """The course of the current app, loaded once per process."""
    course = current_app.extensions.get("lms_course")
    if course is None:
        course = current_app.extensions["lms_course"] = load_course(
            current_app.config["CONTENT_DIR"], current_app.config["QUIZ_DIR"]
        )
    return course


def reload_course(course: Course | None = None) -> Course:
    """Serve ``course`` (by default the course read from disk afresh) from now on in this
    process, in place of the one loaded before: once content is published, pages show what
    was published. Reading from disk raises ``ContentError`` and keeps the old course if the
    content has problems."""
    if course is None:
        course = load_course(current_app.config["CONTENT_DIR"], current_app.config["QUIZ_DIR"])
    current_app.extensions["lms_course"] = course
    return course
