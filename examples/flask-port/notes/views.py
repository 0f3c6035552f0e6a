from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from .models import Note, db

bp = Blueprint("notes", __name__)


class NoteForm(FlaskForm):
    text = StringField("Note", validators=[DataRequired(), Length(max=500)])


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    form = NoteForm()
    if form.validate_on_submit():
        db.session.add(Note(text=form.text.data, author=current_user))
        db.session.commit()
        return redirect(url_for("notes.index"))
    notes = db.session.execute(
        db.select(Note).filter_by(user_id=current_user.id).order_by(Note.id)
    ).scalars()
    return render_template("index.html", form=form, notes=notes)


@bp.get("/api/notes")
@login_required
def api_notes():
    notes = db.session.execute(
        db.select(Note).filter_by(user_id=current_user.id).order_by(Note.id)
    ).scalars()
    return jsonify(user=current_user.username, notes=[note.text for note in notes])
